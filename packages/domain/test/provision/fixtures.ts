import type { CreateInstanceRequest, DatastoreCapacity, ImageEntry } from "../../src/index.js";

/** Public keys made with ssh-keygen for these tests (no private half kept). */
export const KEYS = {
  ed25519: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO68zLD6gVSVNRqZbgngE9GugrQm2BxhZCpoOzihaBR3 test@nimbus",
  ecdsa:
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBdgRQ+JdCt0B27ZvO0X1GjYQOfVXV9e070X5KMAXS+zfwvqY96SYJAqEKH9xs7QLc6GTnO7scKF4jNvSfkUHh4= test@nimbus",
  rsa:
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDGFVppWz7KLzIqE6/IoFmfrnNJVY/LGSK+LDZn7yD7UVbzXsNjsllPcFDR6wVPikqVZIjB/kMUyQ5G+afbmxgGqK0yrIN5JGXJxlyyIbZp/zv969Q2QLAkLMRcBMf7glAC+S+f5zeDJ38fs/gk12MSy45YR6UL5RfsNdk4UaBCKVbI5mqZeejXUZvmmcGPa6F4XkIv6DrMSK6ylXpFftQhoZH0hG2RIAZQN5el968UQNz6o4SrAAph3A5K8TIyvT3S9IONqjxaIDa7S/X/WBF/lWhQPkQD5O86vkid74T/2kjLNNBZ5ToPrOIDetaokWlCpNz8H0iaanXSkGZpOsex test@nimbus",
};

export const image = (over: Partial<ImageEntry> = {}): ImageEntry => ({
  name: "debian-12-docker",
  os: "debian11",
  format: "raw",
  virtualSizeBytes: 2 * 1024 ** 3,
  checksum: { algorithm: "sha512", value: "a".repeat(128) },
  source: { kind: "built", recipe: "debian-12-docker" },
  datastore: "/instance",
  file: "debian-12-docker.raw.xz",
  createdAt: "2026-12-01T10:00:00.000Z",
  ...over,
});

export const request = (over: Partial<CreateInstanceRequest> = {}): CreateInstanceRequest => ({
  name: "web2",
  image: "debian-12-docker",
  vcpus: 2,
  memoryMiB: 2048,
  diskGiB: 20,
  tenant: "acme",
  network: { vlan: 10, vni: 5001 },
  sshKeys: [KEYS.ed25519],
  firstBoot: ["mount -t nfs 10.10.0.100:/instance /nfs"],
  ...over,
});

export const datastore = (over: Partial<DatastoreCapacity> = {}): DatastoreCapacity => ({
  path: "/instance",
  totalBytes: 1000 * 1024 ** 3,
  usedBytes: 200 * 1024 ** 3,
  freeBytes: 800 * 1024 ** 3,
  usedPct: 20,
  level: "ok",
  mountedOn: [],
  disks: 0,
  ...over,
});
