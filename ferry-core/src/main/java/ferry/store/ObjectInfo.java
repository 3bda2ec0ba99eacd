package ferry.store;

import java.time.Instant;
import java.util.Objects;

/**
 * What a store knows of one object.
 *
 * @param location where it lives
 * @param size its length in bytes
 * @param lastModified when it was last written
 * @param etag an opaque version tag: the S3 ETag, or a tag derived from size and modification time locally
 * @param crc32c the whole-object CRC32C as 8 lower-case hex digits, or {@code null} when the store did not say
 *     (listings do not carry it; objects written by Ferry carry it in their metadata)
 */
public record ObjectInfo(Location location, long size, Instant lastModified, String etag, String crc32c) {
    public ObjectInfo {
        Objects.requireNonNull(location, "location is null");
        Objects.requireNonNull(lastModified, "lastModified is null");
        Objects.requireNonNull(etag, "etag is null");
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size + " for " + location);
        }
    }
}
