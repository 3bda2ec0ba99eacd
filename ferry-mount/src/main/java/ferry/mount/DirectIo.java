package ferry.mount;

import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import org.cryptomator.jfuse.api.FileInfo;

/**
 * Asks for direct I/O on a file being opened, which jfuse's {@link FileInfo} does not expose, through the
 * {@code struct fuse_file_info} behind it: its reads then go to the mount, around the kernel's page cache.
 */
final class DirectIo {
    private static final System.Logger LOG = System.getLogger(DirectIo.class.getName());
    /** {@code fuse_file_info}: {@code int flags}, then bit fields from {@code writepage} (bit 0), {@code direct_io}. */
    private static final long BITS_OFFSET = 4;
    private static final int DIRECT_IO = 1 << 1;

    private static volatile boolean warned;

    private DirectIo() {}

    /** Sets direct I/O on the file being opened; false if this jfuse version does not let it be set. */
    static boolean set(FileInfo fi) {
        try {
            Method segment = fi.getClass().getDeclaredMethod("segment");
            segment.setAccessible(true);
            MemorySegment info = (MemorySegment) segment.invoke(fi);
            int bits = info.get(ValueLayout.JAVA_INT_UNALIGNED, BITS_OFFSET);
            info.set(ValueLayout.JAVA_INT_UNALIGNED, BITS_OFFSET, bits | DIRECT_IO);
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (!warned) {
                warned = true;
                LOG.log(Level.WARNING, "cannot ask for direct I/O through this jfuse version ({0}): a file opened"
                        + " while another version of it is open fails with EIO", e.toString());
            }
            return false;
        }
    }
}
