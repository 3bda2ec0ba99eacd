/**
 * FastFile: a read-only FUSE file system over a prefix or a dataset version. {@link ferry.mount.Namespace} answers
 * {@code stat} and {@code readdir} (from the manifest, or from listings kept for a metadata TTL);
 * {@link ferry.mount.ChunkReader} turns reads into ranged GETs of fixed-size chunks through the local
 * {@link ferry.cache.ChunkCache}, with read-ahead for sequential readers; {@link ferry.mount.FerryFileSystem} is the
 * FUSE side, and {@link ferry.mount.Mount} mounts and unmounts it.
 */
package ferry.mount;
