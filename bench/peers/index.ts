import type { PeerEngine } from '../peer.ts';

/** The engines Haven is measured against, loaded on demand (they live in bench/peers' own package). */
export const peerNames = ['spicedb', 'cedar', 'casbin'] as const;
export type PeerName = (typeof peerNames)[number];

export async function createPeer(name: PeerName): Promise<PeerEngine> {
  switch (name) {
    case 'spicedb':
      return new (await import('./spicedb.ts')).SpiceDbPeer();
    case 'cedar':
      return new (await import('./cedar.ts')).CedarPeer();
    case 'casbin':
      return new (await import('./casbin.ts')).CasbinPeer();
  }
}
