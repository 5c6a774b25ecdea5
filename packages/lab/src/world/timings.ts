/** How long things take in the lab, in lab milliseconds (divided by the world's speed). */
export const TIMINGS = {
  /** Node facts (CPU usage) move this often per host. */
  nodeJitterMs: 5_000,
  /** Each agent session pushes its counters (stats.counters) this often. */
  statsMs: 10_000,
  /** `virsh start` returns after this; the guest answers SSH after guestBootMs more. */
  domainStartMs: 600,
  guestBootMs: 1_200,
  /** ACPI shutdown: the guest powers off after this. */
  guestShutdownMs: 2_000,
  /** A started hypervisor runs its autostart domains after this. */
  hostBootMs: 1_000,

  /** An internal snapshot (a running VM's memory is written too) and a revert to one. */
  snapshotCreateMs: 800,
  snapshotRevertMs: 600,

  migrationTickMs: 250,
  migrationPrepareMs: 400,
  migrationFinishMs: 300,
  /** ~400 MiB/s: a 2 GiB VM copies in about 5-6 s at speed 1. */
  migrationBandwidthBytesPerSec: 400 * 1024 * 1024,
  /** libvirt's default max downtime. */
  migrationMaxDowntimeMs: 300,

  /** Storage moves: the copy advances every tick at the requested bandwidth (or this one). */
  storagePrepareMs: 300,
  storageTickMs: 250,
  storageVerifyMs: 400,
  storageSwitchoverMs: 150,
  storageCleanupMs: 200,
  storageCopyBandwidthBytesPerSec: 400 * 1024 * 1024,
  /** Share of a disk's virtual size its (thin) qcow2 file really holds: what a copy moves. */
  diskAllocatedShare: 0.35,

  /** Creates: virt-builder takes tens of seconds (minutes on real hosts under emulation). */
  createCheckMs: 300,
  imageBuildMs: 20_000,
  /** A base image built from Debian's packages (storage.imageBuild): the real ~4.5 min in a tenth. */
  imageBaseBuildMs: 24_000,
  imageBuildCheckMs: 300,
  /** An image import: fetch (or copy), checksum, qemu-img info, catalog rewrite. */
  imageImportMs: 3_000,
  /** A download from a URL: slower than a copy on the storage server (a WAN link). */
  imageDownloadMs: 10_000,
  createWireMs: 300,
  createDefineMs: 300,
  createPollMs: 250,
  /** After the guest answers: first-boot commands, then its address shows. */
  firstBootMs: 2_000,
  deleteStepMs: 200,

  swarmTickMs: 250,
  /** The manager marks a silent node down after this... */
  heartbeatTimeoutMs: 1_500,
  /** ...and moves its tasks elsewhere after this much more. */
  rescheduleDelayMs: 1_500,
  /** A new container is up and probed after this. */
  taskStartMs: 300,
  /** Pause between two scheduler actions on one service: tasks come and go one by one. */
  scaleStepMs: 500,

  /** keepalived advert / vrrp_script interval. */
  vrrpIntervalMs: 333,
} as const;

/** Rise/fall of the lab's health checks (task health, keepalived's NFS check). */
export const TASK_HYSTERESIS = { rise: 2, fall: 3 } as const;
export const VRRP_HYSTERESIS = { rise: 2, fall: 3 } as const;
