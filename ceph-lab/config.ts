import type { LabPaths } from './paths.ts'

export type ObjectStore = 'bluestore' | 'memstore'

export interface ClusterSettings {
  fsid: string
  /** The monitor's msgr2 address, `v2:127.0.0.1:PORT`. */
  monitor: string
  objectStore: ObjectStore
  /** Size of the sparse bluestore file, or the memstore limit. */
  capacityBytes: number
}

/** option → value; Ceph expands `$name` and `$id` in values. */
type ConfOptions = Record<string, string | number | boolean>

function objectStoreOptions(settings: ClusterSettings): ConfOptions {
  if (settings.objectStore === 'memstore') {
    return {
      'osd objectstore': 'memstore',
      'memstore device bytes': settings.capacityBytes,
      // memstore saves its contents only on a full shutdown; without it a restarted OSD has lost its PGs
      'osd fast shutdown': false,
    }
  }
  return {
    'osd objectstore': 'bluestore',
    // bluestore creates `block` in the OSD data dir as a sparse file of this size
    'bluestore block create': true,
    'bluestore block size': settings.capacityBytes,
    'bluestore fsck on mkfs': false,
    'bluestore fsck on mount': false,
  }
}

function confSections(paths: LabPaths, settings: ClusterSettings): Record<string, ConfOptions> {
  return {
    global: {
      fsid: settings.fsid,
      'mon host': settings.monitor,
      'public addr': '127.0.0.1',
      'cluster addr': '127.0.0.1',
      // msgr2 only: one port per daemon role, and no v1 warnings on clients
      'ms bind msgr1': false,
      'ms bind ipv6': false,
      'auth cluster required': 'cephx',
      'auth service required': 'cephx',
      'auth client required': 'cephx',
      'auth allow insecure global id reclaim': false,
      // everything a daemon writes stays in the lab directory
      'run dir': paths.runDir,
      'crash dir': paths.crashDir,
      'admin socket': `${paths.runDir}/$name.asok`,
      'pid file': `${paths.runDir}/$name.pid`,
      'log file': `${paths.logDir}/$name.log`,
      'mon cluster log file': `${paths.logDir}/cluster.log`,
      keyring: `${paths.dir}/$name.keyring`,
      // a single host with a single OSD
      'osd pool default size': 1,
      'osd pool default min size': 1,
      'osd pool default pg num': 8,
      'osd pool default pgp num': 8,
      'osd pool default pg autoscale mode': 'off',
      'osd crush chooseleaf type': 0,
      'mon allow pool size one': true,
      'mon allow pool delete': true,
      'mon warn on pool no redundancy': false,
      // pool and cluster stats (`ceph df`, `rados df`) reach the monitor every second, not every 5
      'mgr stats period': 1,
      'mon mgr digest period': 1,
      'mon data avail warn': 2,
      'mon data avail crit': 1,
      'debug rocksdb': '0/5',
      'debug bluefs': '0/5',
    },
    mon: {
      'mon data': paths.data.mon,
      keyring: `${paths.data.mon}/keyring`,
      'mon initial members': 'a',
      // without this, every map change (snapshot create/remove) waits ~1 s
      'paxos propose interval': 0.05,
      // the port was chosen free; if someone took it meanwhile, fail now rather than retry for 15 s
      'ms bind retry count': 1,
    },
    mgr: {
      'mgr data': paths.data.mgr,
      keyring: `${paths.data.mgr}/keyring`,
      'mgr module path': paths.mgrModules,
      'mgr initial modules': '',
    },
    osd: {
      'osd data': paths.data.osd,
      keyring: `${paths.data.osd}/keyring`,
      'osd memory target': 939524096,
      // when the monitor is already gone, do not wait 5 s to tell it we are stopping
      'osd mon shutdown timeout': 1,
      ...objectStoreOptions(settings),
    },
    client: {
      // several lab commands run at once under the same name; their sockets would collide
      'admin socket': '',
      // an op sent before the OSD is up is retried on this tick (default 5 s)
      'objecter tick interval': 0.2,
    },
  }
}

export function renderCephConf(paths: LabPaths, settings: ClusterSettings): string {
  return Object.entries(confSections(paths, settings))
    .map(([section, options]) => {
      const lines = Object.entries(options).map(([option, value]) => `${option} = ${String(value)}`)
      return `[${section}]\n${lines.join('\n')}\n`
    })
    .join('\n')
}
