package ferry.store.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ferry.store.Location;
import ferry.store.ObjectOutput;
import ferry.store.WriteOptions;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk that accepts writes into the page cache and then fails to store them: an ext4 image with more room than the
 * 8 MiB tmpfs it lives on, loop-mounted (root only, as the other disk tests). Once the tmpfs is full, every
 * write-back fails, as on a failing disk, while {@code write} still succeeds.
 */
class WriteBackFailureTest {
    @TempDir
    Path folder;

    private final List<Path> mounts = new ArrayList<>();
    private Path disk;

    @BeforeEach
    void mountFailingDisk() throws Exception {
        Path backing = mount(folder.resolve("backing"), "-t", "tmpfs", "-o", "size=8m", "tmpfs");
        Path image = backing.resolve("disk.img");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(64L << 20);
        }
        run("mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-E", "lazy_itable_init=1,nodiscard", image.toString());
        disk = mount(folder.resolve("disk"), "-o", "loop", image.toString());
        // Fill the tmpfs: this file's own flush fails, and every later write-back on the disk fails too.
        try (FileChannel filler = FileChannel.open(disk.resolve("filler"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE)) {
            ByteBuffer piece = ByteBuffer.allocate(1 << 20);
            for (int i = 0; i < 16; i++) {
                filler.write(piece.clear());
            }
            assertThatThrownBy(() -> filler.force(false)).isInstanceOf(IOException.class);
        }
    }

    @AfterEach
    void unmount() throws Exception {
        for (Path mount : mounts.reversed()) {
            new ProcessBuilder("umount", "-l", mount.toString()).start().waitFor();
        }
    }

    @Test
    void a_small_file_whose_write_back_failed_is_not_committed_even_after_another_flush_was_told_first()
            throws Exception {
        Location target = Location.of(disk.resolve("data/small.bin"));
        try (ObjectOutput out = new LocalStore().createOrOverwrite(target, WriteOptions.DEFAULT)) {
            out.write(new byte[100_000]);
            // Another program flushes the file system first: the kernel tells it of the failed write-back, and would
            // tell a flush of the whole file system started after that nothing.
            Process sync = new ProcessBuilder("sync", "-f", disk.toString()).redirectErrorStream(true).start();
            String said = new String(sync.getInputStream().readAllBytes());
            assertThat(sync.waitFor()).as(said).isNotZero();

            assertThatThrownBy(out::commit).isInstanceOf(IOException.class).hasMessageContaining("small.bin");
        }
        try (Stream<Path> files = Files.list(disk.resolve("data"))) {
            assertThat(files).as("neither the file nor its temporary file").isEmpty();
        }
    }

    @Test
    void a_large_file_whose_write_back_failed_is_not_committed() throws Exception {
        Location target = Location.of(disk.resolve("data/large.bin"));
        byte[] piece = new byte[1 << 20];
        long pieces = 2 * LocalOutput.FLUSH_EVERY / piece.length + 1;
        // Its size told up front, as a copy tells it: flushed on its own, with no second descriptor.
        WriteOptions sized = new WriteOptions(null, pieces * piece.length);
        try (ObjectOutput out = new LocalStore().createOrOverwrite(target, sized)) {
            for (int i = 0; i < pieces; i++) {
                out.write(piece); // flushed in the background while it is written, and those flushes fail
            }
            assertThatThrownBy(out::commit).isInstanceOf(IOException.class).hasMessageContaining("large.bin");
        }
        try (Stream<Path> files = Files.list(disk.resolve("data"))) {
            assertThat(files).as("neither the file nor its temporary file").isEmpty();
        }
    }

    private Path mount(Path at, String... how) throws Exception {
        Files.createDirectories(at);
        List<String> command = new ArrayList<>(List.of("mount"));
        command.addAll(List.of(how));
        command.add(at.toString());
        run(command.toArray(String[]::new));
        mounts.add(at);
        return at;
    }

    private static void run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor()).as(String.join(" ", command) + ": " + output).isZero();
    }
}
