package ferry.transfer;

import ferry.checksum.ChecksumInputStream;
import ferry.store.ChecksumMismatchException;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectInputStream;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.StoreException;
import ferry.store.WriteOptions;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/** Copies one object: streamed, paced, written atomically, and checked at both ends. */
public final class ObjectCopy {
    private ObjectCopy() {}

    /** Copies one object, unpaced and without a read-back; the checks are those of the full method below. */
    public static ObjectInfo copy(ObjectStore from, ObjectInfo source, ObjectStore to, Location target)
            throws IOException {
        return copy(from, source, to, target, RateLimiter.UNLIMITED, false);
    }

    /**
     * Copies {@code source} to {@code target}: inside the store where both are in one that can and the object is
     * large ({@link ObjectStore#copyWithin}), else through this process. The destination is told the CRC32C the source
     * recorded (when it recorded one), so it refuses to commit other bytes: corruption at rest or on the way is
     * caught; with {@code readBack} the committed object is read again and its CRC32C compared with what was sent.
     *
     * @return the object as written, with the CRC32C of its bytes
     */
    static ObjectInfo copy(ObjectStore from, ObjectInfo source, ObjectStore to, Location target, RateLimiter limiter,
            boolean readBack) throws IOException {
        // Within one object store the bytes of a large object need not leave it (nor be paced: they cross no link of
        // ours). A small one costs two requests either way, and a GET and a PUT cost the server and us the least.
        Optional<ObjectInfo> within = from == to && source.size() >= COPY_WITHIN_FROM ? to.copyWithin(source, target)
                : Optional.empty();
        ObjectInfo written = within.isPresent() ? within.get() : copyBytes(from, source, to, target, limiter);
        if (readBack) {
            try (ChecksumInputStream check = new ChecksumInputStream(limiter.paceFrom(target, to.openStream(target)),
                    false)) {
                check.transferTo(java.io.OutputStream.nullOutputStream());
                if (!check.crc32c().equals(written.crc32c())) {
                    throw new ChecksumMismatchException(target, "CRC32C read back", written.crc32c(),
                            check.crc32c());
                }
            }
        }
        return written;
    }

    private static ObjectInfo copyBytes(ObjectStore from, ObjectInfo source, ObjectStore to, Location target,
            RateLimiter limiter) throws IOException {
        try (ObjectInputStream in = from.openStream(source.location())) {
            // The CRC32C the object carries (S3 metadata that Ferry wrote) arrives with its first bytes; the
            // destination then refuses to commit bytes that do not match it.
            String expected = source.crc32c() != null ? source.crc32c() : in.info().crc32c();
            if (expected == null && source.location().isLocal() && !target.isLocal() && source.size() >= ANNOUNCE) {
                expected = localCrc32c(from, source.location());
            }
            try (ObjectOutput out = to.createOrOverwrite(target, new WriteOptions(expected, source.size()))) {
                long read = transfer(limiter.pace(in), out, source.size());
                if (read != source.size()) {
                    // The source changed while we read it (rewritten in place, its bytes may be of two versions):
                    // not committed, so the target keeps what it had.
                    throw new StoreException(source.location(), "size of " + source.location() + " changed during"
                            + " the copy (listed " + source.size() + " bytes, read " + read + "): copy again");
                }
                return out.commit();
            } catch (ChecksumMismatchException e) {
                // The destination refused bytes that do not match the source's own checksum: the source is at fault.
                throw target.equals(e.location()) ? e.copying(source.location()) : e;
            }
        }
    }

    /** Objects this big or bigger are copied inside their store, where both ends are in one that can. */
    static final long COPY_WITHIN_FROM = 1L << 20;

    /**
     * Local files this big or bigger get their CRC32C read before they are sent to an object store: a store needs it
     * before a large upload starts (S3 takes metadata only then), and a second read of a local file, mostly from
     * the page cache, costs far less than rewriting the object on the server to add it afterwards.
     */
    static final long ANNOUNCE = 5L << 20;

    private static String localCrc32c(ObjectStore store, Location location) throws IOException {
        try (ChecksumInputStream in = new ChecksumInputStream(store.openStream(location), false)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return in.crc32c();
        }
    }

    /**
     * Copies with a buffer fitted to the object: large reads and writes for large objects, little memory for small.
     * Returns the bytes copied.
     */
    private static long transfer(InputStream in, java.io.OutputStream out, long size) throws IOException {
        byte[] buffer = new byte[(int) Math.clamp(size + 1, 8 * 1024, 512 * 1024)];
        long copied = 0;
        int n;
        while ((n = in.read(buffer)) >= 0) {
            out.write(buffer, 0, n);
            copied += n;
        }
        return copied;
    }
}
