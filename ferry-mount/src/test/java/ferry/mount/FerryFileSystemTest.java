package ferry.mount;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.cache.ChunkCache;
import ferry.store.local.LocalStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.cryptomator.jfuse.api.Errno;
import org.cryptomator.jfuse.api.Fuse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The FUSE callbacks without FUSE: what they answer when what they call fails. */
class FerryFileSystemTest {
    @TempDir
    Path folder;

    @Test
    void an_error_in_a_call_becomes_an_errno_instead_of_ending_the_process() throws Exception {
        Namespace failing = new Namespace() {
            @Override
            public Node lookup(String path) {
                throw new NoClassDefFoundError("injected: Could not initialize class software.amazon.Something");
            }

            @Override
            public List<Node> children(String path) {
                throw new NoClassDefFoundError("injected: Could not initialize class software.amazon.Something");
            }

            @Override
            public boolean immutable() {
                return false;
            }

            @Override
            public long totalBytes() {
                return 0;
            }
        };
        Errno errno = Fuse.builder().errno();
        try (ChunkCache cache = ChunkCache.open(folder.resolve("cache"), 1 << 20);
                ChunkReader reader = new ChunkReader(new LocalStore(), cache, 4096, 0, 0)) {
            FerryFileSystem fs = new FerryFileSystem(failing, reader, errno, 0, 0, Duration.ofSeconds(60));

            // jfuse calls these from native code, where an exception thrown ends the JVM and leaves the mount broken
            assertThat(fs.getattr("/a.txt", null, null)).isEqualTo(-errno.eio());
            assertThat(fs.access("/a.txt", 4)).isEqualTo(-errno.eio());
            assertThat(fs.opendir("/", null)).isEqualTo(-errno.eio());
            assertThat(fs.readdir("/", null, 0, null, 0)).isEqualTo(-errno.eio());
        }
    }
}
