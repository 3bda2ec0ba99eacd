package ferry.store;

import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where an object or a prefix of objects lives: {@code s3://bucket/key} or {@code file:///absolute/path}.
 *
 * <p>A value parsed and checked once by {@link #of}; nothing past the command line takes a location as a raw
 * string. A location whose path ends in {@code /} (or is a bucket root) names a prefix, "a folder".
 * For {@code file} locations, the path is absolute and normalized; plain paths are accepted and resolved
 * against the working directory.
 */
public final class Location implements Comparable<Location> {
    public static final String FILE = "file";
    public static final String S3 = "s3";

    private final String scheme;
    /** The characters of S3's bucket names, with the capitals and underscores that some older buckets keep. */
    private static final Pattern VALID_BUCKET = Pattern.compile("[A-Za-z0-9._-]{1,255}");

    private final String bucket;
    private final String path;

    private Location(String scheme, String bucket, String path) {
        this.scheme = scheme;
        this.bucket = bucket;
        this.path = path;
    }

    /**
     * Parses {@code s3://bucket/key}, {@code file:///abs/path}, or a plain (absolute or relative) local path.
     *
     * @throws IllegalArgumentException naming the input and what is wrong with it
     */
    public static Location of(String text) {
        Objects.requireNonNull(text, "location is null");
        if (text.isEmpty()) {
            throw new IllegalArgumentException("empty location: give a path, file:///path or s3://bucket/prefix");
        }
        if (text.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("location contains a NUL character: " + text.replace("\0", "\\0"));
        }
        int colon = text.indexOf("://");
        if (colon < 0) {
            return local(Path.of(text).toAbsolutePath(), text.endsWith("/"));
        }
        String scheme = text.substring(0, colon).toLowerCase(java.util.Locale.ROOT);
        String rest = text.substring(colon + 3);
        switch (scheme) {
            case S3 -> {
                int slash = rest.indexOf('/');
                String bucket = slash < 0 ? rest : rest.substring(0, slash);
                String key = slash < 0 ? "" : rest.substring(slash + 1);
                if (bucket.isEmpty()) {
                    throw new IllegalArgumentException("no bucket in '" + text + "': write s3://bucket/prefix");
                }
                if (!VALID_BUCKET.matcher(bucket).matches()) {
                    throw new IllegalArgumentException("'" + bucket + "' in '" + text + "' is not a bucket name: a"
                            + " bucket's name holds only letters, digits, dots and hyphens (and, in older buckets,"
                            + " underscores)");
                }
                return new Location(S3, bucket, key);
            }
            case FILE -> {
                if (!rest.startsWith("/") && !rest.startsWith("localhost/")) {
                    throw new IllegalArgumentException(
                            "file location '" + text + "' must be absolute: write file:///absolute/path");
                }
                String p = rest.startsWith("/") ? rest : rest.substring("localhost".length());
                return local(Path.of(p), p.endsWith("/"));
            }
            default -> throw new IllegalArgumentException(
                    "unsupported scheme '" + scheme + "' in '" + text + "': use a path, file:// or s3://");
        }
    }

    /** A local file or folder location. */
    public static Location of(Path path) {
        return local(path.toAbsolutePath(), false);
    }

    private static Location local(Path absolute, boolean directory) {
        String p = absolute.normalize().toString();
        if (directory && !p.endsWith("/")) {
            p = p + "/";
        }
        return new Location(FILE, "", p);
    }

    public String scheme() {
        return scheme;
    }

    /** The bucket of an S3 location; empty for local locations. */
    public String bucket() {
        return bucket;
    }

    /** The key within the bucket (S3, no leading slash) or the absolute path (local). */
    public String path() {
        return path;
    }

    public boolean isLocal() {
        return scheme.equals(FILE);
    }

    /** True when this names a prefix ("a folder"): the path ends in {@code /} or is a bucket root. */
    public boolean isDirectory() {
        return path.isEmpty() || path.endsWith("/");
    }

    /** This location as a prefix: with a trailing {@code /}. */
    public Location asDirectory() {
        return isDirectory() ? this : new Location(scheme, bucket, path + "/");
    }

    /** The last segment of the path, without a trailing slash. */
    public String name() {
        String p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        return p.substring(p.lastIndexOf('/') + 1);
    }

    /**
     * Appends a relative key to this prefix. The key is used as is: callers that materialize keys as local files
     * must check them (see {@code ferry.transfer.SafeKeys}).
     */
    public Location resolve(String relativeKey) {
        Objects.requireNonNull(relativeKey, "relativeKey is null");
        if (relativeKey.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("key contains a NUL character: " + relativeKey.replace("\0", "\\0"));
        }
        return new Location(scheme, bucket, asDirectory().path + relativeKey);
    }

    /** The key of {@code child} below this prefix, or throws if {@code child} is not below it. */
    public String relativize(Location child) {
        if (!child.scheme.equals(scheme) || !child.bucket.equals(bucket) || !child.path.startsWith(path)) {
            throw new IllegalArgumentException(child + " is not below " + this);
        }
        String key = child.path.substring(path.length());
        return key.startsWith("/") ? key.substring(1) : key;
    }

    /** The local path of a {@code file} location. */
    public Path toPath() {
        if (!isLocal()) {
            throw new IllegalStateException(this + " is not a local location");
        }
        return Path.of(path);
    }

    @Override
    public int compareTo(Location o) {
        return toString().compareTo(o.toString());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Location l && l.scheme.equals(scheme) && l.bucket.equals(bucket) && l.path.equals(path);
    }

    @Override
    public int hashCode() {
        return Objects.hash(scheme, bucket, path);
    }

    @Override
    public String toString() {
        return isLocal() ? "file://" + path : "s3://" + bucket + "/" + path;
    }
}
