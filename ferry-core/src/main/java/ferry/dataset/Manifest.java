package ferry.dataset;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One immutable version of a dataset: where its objects live, and for each the key, size, CRC32C and version tag
 * that make it trustworthy. Stored as JSON in the object store itself, so no database is needed to find or trust
 * data.
 *
 * @param format always {@link #FORMAT}; lets later readers recognize and upgrade old manifests
 * @param name the dataset's name
 * @param version 1, 2, ...
 * @param base the prefix the keys are relative to ({@code s3://bucket/prefix/} or {@code file:///path/})
 * @param createdAt when this version was written
 * @param derivedFrom the version this one was derived from ({@code name@vN}), or {@code null} for the first
 * @param summary totals and the size histogram
 * @param entries the objects, in key order
 */
@JsonPropertyOrder({"format", "name", "version", "base", "createdAt", "derivedFrom", "summary", "entries"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Manifest(
        String format,
        String name,
        int version,
        String base,
        Instant createdAt,
        String derivedFrom,
        Summary summary,
        List<Entry> entries) {
    public static final String FORMAT = "ferry.manifest/1";

    public Manifest {
        Objects.requireNonNull(entries, "entries is null");
        entries = List.copyOf(entries);
    }

    /**
     * @param key the object's key below {@link #base()}
     * @param size bytes
     * @param crc32c 8 lower-case hex digits
     * @param md5 32 lower-case hex digits, when it was asked for at creation; otherwise {@code null}
     * @param etag the store's version tag when the entry was recorded
     * @param lastModified when the object was last written
     */
    @JsonPropertyOrder({"key", "size", "crc32c", "md5", "etag", "lastModified"})
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Entry(String key, long size, String crc32c, String md5, String etag, Instant lastModified) {}

    /**
     * @param objects how many entries
     * @param bytes their total size
     * @param histogram objects and bytes by size class
     */
    public record Summary(long objects, long bytes, List<SizeClass> histogram) {}

    /**
     * @param below the exclusive upper bound in bytes of this class, or -1 for the open-ended last class
     * @param label a human-readable range such as {@code 4KiB-64KiB}
     */
    public record SizeClass(long below, String label, long objects, long bytes) {}

    public DatasetRef ref() {
        return new DatasetRef(name, version);
    }
}
