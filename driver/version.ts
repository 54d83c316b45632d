import packageJson from '../package.json' with { type: 'json' }

export const DRIVER_VERSION: string = packageJson.version
