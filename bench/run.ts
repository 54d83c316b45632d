// `npm run bench`: every bench/*.bench.ts in turn (or the ones named as arguments).
import { readdir } from 'node:fs/promises'
import { execa } from 'execa'

const here = new URL('.', import.meta.url).pathname
const chosen = process.argv.slice(2)
const files = chosen.length > 0 ? chosen : (await readdir(here)).filter((file) => file.endsWith('.bench.ts')).sort()
let failed = 0
for (const file of files) {
  console.log(`\n=== ${file}`)
  const result = await execa(process.execPath, [new URL(file, `file://${here}`).pathname], { stdio: 'inherit', reject: false })
  if (result.exitCode !== 0) failed++
}
process.exit(failed === 0 ? 0 : 1)
