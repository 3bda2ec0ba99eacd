package ferry.mount;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.cache.ChunkCache;
import ferry.store.Location;
import ferry.store.local.LocalStore;
import ferry.time.Ticker;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.cryptomator.jfuse.api.Errno;
import org.cryptomator.jfuse.api.Fuse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The FUSE callbacks without FUSE: what they answer when what they call fails, and how they open files. */
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

    @Test
    void a_file_opened_while_another_version_of_it_is_open_reads_around_the_page_cache_or_fails() throws Exception {
        Path data = Files.createDirectories(folder.resolve("data"));
        Files.writeString(data.resolve("a.bin"), "first version");
        Errno errno = Fuse.builder().errno();
        try (ChunkCache cache = ChunkCache.open(folder.resolve("cache"), 1 << 20);
                ChunkReader reader = new ChunkReader(new LocalStore(), cache, 4096, 0, 0)) {
            Namespace namespace = new PrefixNamespace(new LocalStore(), Location.of(data).asDirectory(),
                    Duration.ZERO, Ticker.SYSTEM);
            FerryFileSystem fs = new FerryFileSystem(namespace, reader, errno, 0, 0, Duration.ZERO);
            OpenFlagsTest.Info first = OpenFlagsTest.info();
            assertThat(fs.open("/a.bin", first)).isZero();
            assertThat(first.segment().get(ValueLayout.JAVA_INT_UNALIGNED, 4)).as("the page cache serves it").isZero();

            Files.writeString(data.resolve("a.bin"), "the second version");

            OpenFlagsTest.Info second = OpenFlagsTest.info();
            assertThat(fs.open("/a.bin", second)).isZero();
            assertThat(second.segment().get(ValueLayout.JAVA_INT_UNALIGNED, 4)).as("direct I/O").isEqualTo(0b10);
            // Where the bit cannot be set, the open fails rather than share pages with the other version.
            assertThat(fs.open("/a.bin", new OpenFlagsTest.BareInfo())).isEqualTo(-errno.eio());
            fs.release("/a.bin", first);
            fs.release("/a.bin", second);
            assertThat(fs.open("/a.bin", new OpenFlagsTest.BareInfo())).as("no other version open any more").isZero();
        }
    }
}
