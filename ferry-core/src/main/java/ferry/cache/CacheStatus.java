package ferry.cache;

import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What a chunk cache folder holds and how it has served, for {@code ferry cache status}.
 *
 * @param usedBytes the disk space of the chunk files (each rounded up to whole blocks); folders are not counted
 * @param thisProcess the counters of the cache instance that made this status
 * @param allTime the counters every process flushed into the folder, plus this instance's not yet flushed
 * @param bytesByLocation disk space of chunks per object location, as given to {@link ChunkCache#describe}
 * @param undescribedBytes disk space of chunks of objects never described (or whose description was lost)
 */
public record CacheStatus(
        Path dir,
        long budgetBytes,
        long usedBytes,
        long chunkCount,
        Counters thisProcess,
        Counters allTime,
        SortedMap<String, Long> bytesByLocation,
        long undescribedBytes) {

    public CacheStatus {
        Objects.requireNonNull(dir, "dir is null");
        Objects.requireNonNull(thisProcess, "thisProcess is null");
        Objects.requireNonNull(allTime, "allTime is null");
        bytesByLocation = Collections.unmodifiableSortedMap(new TreeMap<>(bytesByLocation));
    }

    /** Reads served from the cache (hits) or not (misses), and chunks dropped or not stored. */
    public record Counters(long hits, long misses, long evictions, long corruptDropped, long storeFailures) {
        /** Hits over reads, 0 before any read. */
        public double hitRatio() {
            long reads = hits + misses;
            return reads == 0 ? 0 : (double) hits / reads;
        }
    }

    /**
     * Chunk bytes grouped by location prefix: the scheme and bucket (or host) and then {@code depth} folders, e.g.
     * {@code s3://bucket/train/a.jpg} counts under {@code s3://bucket/} at depth 0 and {@code s3://bucket/train/} at
     * depth 1 and deeper. An object's own name never becomes a group.
     */
    public SortedMap<String, Long> bytesByPrefix(int depth) {
        if (depth < 0) {
            throw new IllegalArgumentException("prefix depth must not be negative, got " + depth);
        }
        SortedMap<String, Long> groups = new TreeMap<>();
        bytesByLocation.forEach((location, bytes) -> groups.merge(prefixOf(location, depth), bytes, Long::sum));
        return Collections.unmodifiableSortedMap(groups);
    }

    /** Chunk bytes of objects whose location starts with {@code prefix} (as text; end it with "/" for a folder). */
    public long bytesUnder(String prefix) {
        Objects.requireNonNull(prefix, "prefix is null");
        long sum = 0;
        for (Map.Entry<String, Long> entry : bytesByLocation.entrySet()) {
            sum += entry.getKey().startsWith(prefix) ? entry.getValue() : 0;
        }
        return sum;
    }

    static String prefixOf(String location, int depth) {
        int scheme = location.indexOf("://");
        // The first slash after the authority ("s3://bucket/"), or the path's root for a location without a scheme.
        int end = location.indexOf('/', scheme < 0 ? 0 : scheme + 3);
        if (end < 0) {
            return location;
        }
        int lastSlash = location.lastIndexOf('/');
        for (int i = 0; i < depth && end < lastSlash; i++) {
            end = location.indexOf('/', end + 1);
        }
        return location.substring(0, end + 1);
    }
}
