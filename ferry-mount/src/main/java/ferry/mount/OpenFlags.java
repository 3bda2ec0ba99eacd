package ferry.mount;

import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import org.cryptomator.jfuse.api.FileInfo;

/**
 * Sets flags of a file being opened that jfuse's {@link FileInfo} does not expose, through the
 * {@code struct fuse_file_info} behind it: direct I/O (its reads go to the mount, around the kernel's page cache) and
 * keep_cache (the kernel keeps the pages it holds of the file instead of dropping them at this open).
 */
final class OpenFlags {
    private static final System.Logger LOG = System.getLogger(OpenFlags.class.getName());
    /** {@code fuse_file_info}: {@code int flags}, then bit fields: writepage, direct_io, keep_cache. */
    private static final long BITS_OFFSET = 4;
    private static final int DIRECT_IO = 1 << 1;
    private static final int KEEP_CACHE = 1 << 2;

    private static volatile boolean warned;

    private OpenFlags() {}

    /** Sets direct I/O on the file being opened; false if this jfuse version does not let it be set. */
    static boolean directIo(FileInfo fi) {
        return set(fi, DIRECT_IO);
    }

    /** Keeps the kernel's pages of the file being opened; false if this jfuse version does not let it be set. */
    static boolean keepCache(FileInfo fi) {
        return set(fi, KEEP_CACHE);
    }

    private static boolean set(FileInfo fi, int bit) {
        try {
            Method segment = fi.getClass().getDeclaredMethod("segment");
            segment.setAccessible(true);
            MemorySegment info = (MemorySegment) segment.invoke(fi);
            int bits = info.get(ValueLayout.JAVA_INT_UNALIGNED, BITS_OFFSET);
            info.set(ValueLayout.JAVA_INT_UNALIGNED, BITS_OFFSET, bits | bit);
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (!warned) {
                warned = true;
                LOG.log(Level.WARNING, "cannot set open flags through this jfuse version ({0}): a file opened"
                        + " while another version of it is open fails with EIO, and pages are not kept", e.toString());
            }
            return false;
        }
    }
}
