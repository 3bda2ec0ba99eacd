package ferry.store;

/**
 * How to write a new object.
 *
 * @param crc32c the CRC32C the bytes are expected to have (8 hex digits), or {@code null}. When given, the
 *     store records it up front (S3 metadata must be known before a multipart upload starts) and the commit
 *     fails with {@link ChecksumMismatchException} if the bytes written do not match.
 * @param sizeHint the expected size in bytes, or -1; lets a store pick single or multipart upload at once
 */
public record WriteOptions(String crc32c, long sizeHint) {
    public static final WriteOptions DEFAULT = new WriteOptions(null, -1);

    public WriteOptions {
        if (crc32c != null && !crc32c.matches("[0-9a-f]{8}")) {
            throw new IllegalArgumentException("crc32c must be 8 lower-case hex digits: " + crc32c);
        }
    }

    public static WriteOptions expecting(String crc32c, long size) {
        return new WriteOptions(crc32c, size);
    }
}
