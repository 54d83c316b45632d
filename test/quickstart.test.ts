// The README's quick start: `npm start` brings up a ceph-lab and the driver,
// answers CSI on the socket it logs, and Ctrl-C leaves nothing behind.
import { access } from 'node:fs/promises'
import { execa } from 'execa'
import t from 'tap'
import { connectCsi, invoke } from '../proto/csi/client.ts'

const START = new URL('../deploy/local/start.ts', import.meta.url).pathname

t.test('npm start serves CSI on a lab and Ctrl-C cleans up', async (t) => {
  const child = execa(process.execPath, [START], { reject: false, all: true, buffer: false })
  let output = ''
  child.all?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })

  async function waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const match = pattern.exec(output)
      if (match) return match
      if (child.exitCode !== null) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`no ${pattern} in the output:\n${output}`)
  }

  const [, socketPath = ''] = await waitFor(/serving CSI on unix:\/\/(\S+?)"/, 180_000)
  const [, labDir = ''] = await waitFor(/"lab":"([^"]+)"/, 1_000)
  const clients = connectCsi(socketPath)
  const info = await invoke(clients.identity, 'GetPluginInfo', {})
  t.match(info.name, /^[a-z]/, `GetPluginInfo answers (${info.name} ${info.vendor_version})`)
  const probe = await invoke(clients.identity, 'Probe', {})
  t.equal(probe.ready?.value, true, 'Probe reaches the lab')
  const capabilities = await invoke(clients.controller, 'ControllerGetCapabilities', {})
  t.ok((capabilities.capabilities ?? []).length > 0, 'the Controller service is on')
  clients.close()

  child.kill('SIGINT')
  const result = await child
  t.equal(result.exitCode, 0, 'Ctrl-C stops cleanly')
  t.match(output, /driver and ceph-lab stopped/)
  t.notOk(await access(labDir).then(() => true, () => false), 'the lab directory is gone')
  t.notOk(await access(socketPath).then(() => true, () => false), 'the socket is gone')
})
