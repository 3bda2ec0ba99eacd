/**
 * The on-disk chunk cache behind the FastFile mount.
 *
 * <p>Users need three types: {@link ferry.cache.ChunkCache}, opened on a folder with a byte budget;
 * {@link ferry.cache.ChunkKey}, naming one chunk of one object version; and {@link ferry.cache.CacheStatus}, what
 * {@code ferry cache status} shows. The file layout, how processes share a folder, and how a chunk is checked are
 * described on {@code ChunkCache}; everything else is package-private.
 */
package ferry.cache;
