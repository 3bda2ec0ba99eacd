package ferry.mount;

import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Method;
import org.cryptomator.jfuse.api.Stat;

/**
 * Sets a file's {@code st_blocks}, which jfuse's {@link Stat} does not expose, through the {@code struct stat} behind
 * it. A file that reports no blocks for its bytes looks like one big hole: {@code du} shows 0, and GNU
 * {@code tar --sparse} archives it as zeros without reading it.
 */
final class StatBlocks {
    private static final System.Logger LOG = System.getLogger(StatBlocks.class.getName());

    /** jfuse's {@code StatImpl.segment()} and its generated {@code stat.st_blocks(MemorySegment, long)}. */
    private record Access(Class<?> statClass, Method segment, Method setBlocks) {}

    private static volatile Access access;
    private static volatile boolean unavailable;

    private StatBlocks() {}

    static void set(Stat stat, long blocks) {
        Access a = access;
        if (a == null || a.statClass != stat.getClass()) {
            if (unavailable || (a = find(stat.getClass())) == null) {
                return;
            }
        }
        try {
            a.setBlocks.invoke(null, (MemorySegment) a.segment.invoke(stat), blocks);
        } catch (ReflectiveOperationException | RuntimeException e) {
            giveUp(e);
        }
    }

    private static Access find(Class<?> statClass) {
        try {
            Method segment = statClass.getDeclaredMethod("segment");
            segment.setAccessible(true);
            Class<?> struct = Class.forName(statClass.getPackageName() + ".extr.fuse3.stat", true,
                    statClass.getClassLoader());
            Method setBlocks = struct.getMethod("st_blocks", MemorySegment.class, long.class);
            Access found = new Access(statClass, segment, setBlocks);
            access = found;
            return found;
        } catch (ReflectiveOperationException | RuntimeException e) {
            giveUp(e);
            return null;
        }
    }

    private static void giveUp(Exception e) {
        if (!unavailable) {
            unavailable = true;
            access = null;
            LOG.log(Level.WARNING, "cannot report files' block counts through this jfuse version ({0}): du shows 0"
                    + " and tar --sparse may archive files as holes", e.toString());
        }
    }
}
