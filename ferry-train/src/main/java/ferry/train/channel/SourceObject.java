package ferry.train.channel;

import ferry.store.Location;
import java.util.Objects;

/**
 * One file a channel delivers: an object to fetch, or bytes Ferry made (the selected lines of an augmented
 * manifest).
 *
 * @param key the file's path below the channel's folder
 * @param location where the bytes come from, or {@code null} for {@code content}
 * @param size the length in bytes
 * @param crc32c the object's CRC32C when its store recorded one, else {@code null}
 * @param content the bytes themselves when Ferry made them, else {@code null}
 */
public record SourceObject(String key, Location location, long size, String crc32c, byte[] content) {
    public SourceObject {
        Objects.requireNonNull(key, "key is null");
        if ((location == null) == (content == null)) {
            throw new IllegalArgumentException("a source object has a location or content, not both: " + key);
        }
    }

    static SourceObject of(String key, Location location, long size, String crc32c) {
        return new SourceObject(key, location, size, crc32c, null);
    }

    static SourceObject made(String key, byte[] content) {
        return new SourceObject(key, null, content.length, null, content);
    }
}
