package ferry.mount;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import org.cryptomator.jfuse.api.FileInfo;
import org.junit.jupiter.api.Test;

/** The direct I/O bit of {@code struct fuse_file_info}, set through the segment jfuse keeps behind its FileInfo. */
class OpenFlagsTest {
    /** A FileInfo of a file opened for reading; the rest is up to each kind. */
    interface ReadInfo extends FileInfo {
        @Override
        default int getFlags() {
            return 0;
        }

        @Override
        default Set<StandardOpenOption> getOpenFlags() {
            return Set.of(StandardOpenOption.READ);
        }

        @Override
        default long getLockOwner() {
            return 0;
        }
    }

    /** A FileInfo over a {@code fuse_file_info} in memory, as jfuse's own is. */
    record Info(MemorySegment segment) implements ReadInfo {
        @Override
        public long getFh() {
            return segment.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
        }

        @Override
        public void setFh(long fh) {
            segment.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, fh);
        }

        @Override
        public int getFlags() {
            return segment.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
        }
    }

    /** A FileInfo with no {@code fuse_file_info} behind it. */
    static final class BareInfo implements ReadInfo {
        private long fh;

        @Override
        public long getFh() {
            return fh;
        }

        @Override
        public void setFh(long fh) {
            this.fh = fh;
        }
    }

    static Info info() {
        return new Info(MemorySegment.ofArray(new byte[40]));
    }

    @Test
    void sets_the_bit_after_writepage_and_keeps_the_flags_and_the_other_bits() {
        Info info = info();
        info.segment().set(ValueLayout.JAVA_INT_UNALIGNED, 0, 0x8000); // O_LARGEFILE
        info.segment().set(ValueLayout.JAVA_INT_UNALIGNED, 4, 0b101); // writepage and keep_cache

        assertThat(OpenFlags.directIo(info)).isTrue();

        assertThat(info.segment().get(ValueLayout.JAVA_INT_UNALIGNED, 4)).isEqualTo(0b111);
        assertThat(info.getFlags()).isEqualTo(0x8000);
    }

    @Test
    void keep_cache_is_the_bit_after_direct_io() {
        Info info = info();
        info.segment().set(ValueLayout.JAVA_INT_UNALIGNED, 4, 0b1); // writepage

        assertThat(OpenFlags.keepCache(info)).isTrue();

        assertThat(info.segment().get(ValueLayout.JAVA_INT_UNALIGNED, 4)).isEqualTo(0b101);
    }

    @Test
    void a_file_info_without_a_segment_behind_it_is_refused() {
        FileInfo bare = new BareInfo();

        assertThat(OpenFlags.directIo(bare)).isFalse();
    }
}
