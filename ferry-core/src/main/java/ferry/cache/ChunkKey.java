package ferry.cache;

import java.util.Objects;

/**
 * Identifies one chunk of one version of one object. {@code objectId} is an opaque string the caller builds (for
 * example {@code "s3://b/k"} + a version tag + the chunk size), so that a new version or a new chunk size never
 * reads old bytes; the cache hashes it (SHA-256 hex) for its folder names.
 */
public record ChunkKey(String objectId, long index) {
    public ChunkKey {
        Objects.requireNonNull(objectId, "objectId is null");
        if (index < 0) {
            throw new IllegalArgumentException("chunk index must not be negative, got " + index + " for " + objectId);
        }
    }
}
