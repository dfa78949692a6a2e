// BlobIO over the storage service's ObjectStore backends, for the embedded (single-process) mode
// and for tests on a real filesystem store. Over the mesh the storage gRPC client plays this role.
import type { ObjectStore } from '../../storage/backends/object-store.js';
import type { BlobIO } from '../../../shared/tf/index.js';

export function objectStoreBlobs(store: ObjectStore): BlobIO {
  return {
    async getBytes(key: string): Promise<Uint8Array | undefined> {
      if ((await store.stat(key)) === undefined) return undefined;
      return new Uint8Array(await store.getBytes(key));
    },
    async put(key: string, bytes: Uint8Array): Promise<void> {
      await store.put(key, bytes);
    },
  };
}
