// Runs the whole tap suite and ends with one plain summary line
// ("N passed, N failed, N skipped") that CI and people can read.
import { execa } from 'execa'

const tap = execa('tap', ['--reporter=tap', ...process.argv.slice(2)], {
  preferLocal: true,
  reject: false,
  stdin: 'ignore',
  stderr: 'inherit',
  buffer: false,
})

let last = ''
tap.stdout?.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk)
  last = (last + chunk.toString()).slice(-4096)
})
const { exitCode } = await tap

// tap's closing line looks like `# { total: 12, pass: 11, fail: 1, skip: 0 }`.
const summary = [...last.matchAll(/^# \{([^}]*)\}\s*$/gm)].at(-1)?.[1] ?? ''
const count = (name: string) => Number(new RegExp(`\\b${name}: (\\d+)`).exec(summary)?.[1] ?? 0)
const failed = count('fail') + (exitCode !== 0 && count('fail') === 0 ? 1 : 0)
console.log(`\ntests: ${count('pass')} passed, ${failed} failed, ${count('skip') + count('todo')} skipped`)
process.exit(exitCode ?? 1)
