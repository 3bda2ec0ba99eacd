package ferry.mount;

import java.time.Duration;

/**
 * How a mount reads.
 *
 * @param chunkSize bytes per ranged GET and per cache entry
 * @param readAheadChunks the most chunks one sequential reader fetches ahead
 * @param readAheadFetches the most read-ahead fetches in flight for the whole mount
 * @param metadataTtl how long a prefix mount trusts a folder listing (a dataset version is trusted for ever)
 */
public record MountOptions(int chunkSize, int readAheadChunks, int readAheadFetches, Duration metadataTtl) {
    /** The longest metadata TTL: as good as for ever, and well within what a {@code long} of nanoseconds holds. */
    public static final Duration MAX_METADATA_TTL = Duration.ofDays(36_500);
    public static final MountOptions DEFAULTS = new MountOptions(1 << 20, 32, 16, Duration.ofSeconds(60));

    public MountOptions {
        checkChunkSize(chunkSize);
        if (readAheadChunks < 0 || readAheadFetches < 0) {
            throw new IllegalArgumentException("read-ahead must not be negative");
        }
        if (metadataTtl.isNegative()) {
            throw new IllegalArgumentException("metadata TTL must not be negative, not " + metadataTtl);
        }
        if (metadataTtl.compareTo(MAX_METADATA_TTL) > 0) { // the mount counts it in nanoseconds
            throw new IllegalArgumentException("metadata TTL is too long: at most " + MAX_METADATA_TTL.toDays()
                    + " days (100 years), not " + metadataTtl.toDays() + " days");
        }
    }

    public MountOptions withMetadataTtl(Duration ttl) {
        return new MountOptions(chunkSize, readAheadChunks, readAheadFetches, ttl);
    }

    /** As given on a command line: a size past an {@code int} is refused naming it, not cut down first. */
    public MountOptions withChunkSize(long bytes) {
        checkChunkSize(bytes);
        return new MountOptions((int) bytes, readAheadChunks, readAheadFetches, metadataTtl);
    }

    private static void checkChunkSize(long bytes) {
        if (bytes < 4096 || bytes > 64 << 20) {
            throw new IllegalArgumentException("chunk size must be between 4 KiB and 64 MiB, not " + bytes);
        }
    }
}
