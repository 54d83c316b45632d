import { createServer } from 'node:net'

/** A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's choice for port 0). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address()
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port)
        else reject(new Error('could not read the port of a port-0 listener'))
      })
    })
  })
}
