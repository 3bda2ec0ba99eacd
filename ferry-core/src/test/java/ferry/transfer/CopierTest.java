package ferry.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ferry.store.Location;
import ferry.store.MemoryStore;
import ferry.store.ObjectNotFoundException;
import ferry.store.Stores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CopierTest {
    @TempDir
    Path folder;

    private final Stores stores = Stores.fromEnvironment(Map.of());
    private final Copier copier = new Copier(stores, new Copier.Options(4, false), Clock.systemUTC());

    @AfterEach
    void tearDown() throws Exception {
        stores.close();
    }

    private Path write(String relative, String content) throws Exception {
        Path file = folder.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
        return file;
    }

    @Test
    void copies_a_folder_contents_keeping_keys() throws Exception {
        write("src/a.txt", "a");
        write("src/sub/b.txt", "bb");
        CopyReport report = copier.copy(Location.of(folder.resolve("src")), Location.of(folder.resolve("dst")),
                TransferListener.NONE);

        assertThat(report.succeeded()).isTrue();
        assertThat(report.objects()).isEqualTo(2);
        assertThat(report.bytes()).isEqualTo(3);
        assertThat(Files.readString(folder.resolve("dst/a.txt"))).isEqualTo("a");
        assertThat(Files.readString(folder.resolve("dst/sub/b.txt"))).isEqualTo("bb");
    }

    @Test
    void copies_a_single_file_into_a_folder_or_to_a_name() throws Exception {
        Path file = write("one.txt", "1");
        Files.createDirectories(folder.resolve("into"));
        copier.copy(Location.of(file), Location.of(folder.resolve("into")), TransferListener.NONE);
        copier.copy(Location.of(file), Location.of(folder.resolve("renamed.txt")), TransferListener.NONE);

        assertThat(Files.readString(folder.resolve("into/one.txt"))).isEqualTo("1");
        assertThat(Files.readString(folder.resolve("renamed.txt"))).isEqualTo("1");
    }

    @Test
    void a_copy_again_after_a_killed_one_removes_the_temporary_files_it_left_in_the_folders_written()
            throws Exception {
        write("src/a.txt", "a");
        write("src/sub/b.txt", "bb");
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        // What a copy killed with SIGKILL leaves: temporary files of a writer that is gone, beside their targets.
        String mark = "." + gone.pid() + "@" + ferry.store.local.WriterMark.HOST + ".1f2e"
                + ferry.store.local.LocalStore.TEMP_SUFFIX;
        Path left = write("dst/.a.txt" + mark, "half");
        Path leftBelow = write("dst/sub/.b.txt" + mark, "half");
        Path leftByOne = write("one/.a.txt" + mark, "half");

        assertThat(copier.copy(Location.of(folder.resolve("src")), Location.of(folder.resolve("dst")),
                TransferListener.NONE).succeeded()).isTrue();
        assertThat(copier.copy(Location.of(folder.resolve("src/a.txt")), Location.of(folder.resolve("one")),
                TransferListener.NONE).succeeded()).isTrue();

        assertThat(left).doesNotExist();
        assertThat(leftBelow).doesNotExist();
        assertThat(leftByOne).doesNotExist();
        assertThat(Files.readString(folder.resolve("dst/sub/b.txt"))).isEqualTo("bb");
    }

    @Test
    void a_source_whose_size_changed_after_it_was_listed_fails_and_nothing_is_written() throws Exception {
        Path file = write("src/log.txt", "first");
        ferry.store.ObjectStore store = stores.forLocation(Location.of(file));
        ferry.store.ObjectInfo listed = store.stat(Location.of(file));
        // Rewritten in place between the listing and the read: what is read is no version the listing saw.
        Files.writeString(file, "rewritten, and longer");
        Location target = Location.of(folder.resolve("dst/log.txt"));

        assertThatThrownBy(() -> ObjectCopy.copy(store, listed, store, target))
                .isInstanceOf(ferry.store.StoreException.class)
                .hasMessageContaining("changed during the copy");
        assertThat(folder.resolve("dst/log.txt")).doesNotExist();
    }

    @Test
    void missing_source_is_an_error_naming_it() {
        Location missing = Location.of(folder.resolve("no-such-folder"));
        assertThatThrownBy(() -> copier.copy(missing, Location.of(folder.resolve("dst")), TransferListener.NONE))
                .isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining("no-such-folder");
        assertThat(folder.resolve("dst")).doesNotExist();
    }

    @Test
    void a_folder_copied_into_itself_is_refused_and_nothing_is_written() throws Exception {
        write("src/a.txt", "a");
        write("src/sub/b.txt", "bb");

        // Copies written below the source would be listed, and copied again one level deeper.
        assertThatThrownBy(() -> copier.copy(Location.of(folder.resolve("src")),
                        Location.of(folder.resolve("src/backup")), TransferListener.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("into itself");

        assertThat(folder.resolve("src/backup")).doesNotExist();
        // Into a folder around the source is fine: nothing copied is listed again.
        assertThat(copier.copy(Location.of(folder.resolve("src/sub")), Location.of(folder.resolve("src")),
                TransferListener.NONE).objects()).isEqualTo(1);
        assertThat(Files.readString(folder.resolve("src/b.txt"))).isEqualTo("bb");
    }

    @Test
    void a_key_that_would_escape_the_destination_is_refused_by_name_and_the_others_are_copied() throws Exception {
        MemoryStore memory = new MemoryStore();
        memory.put(Location.of("s3://bucket/evil/../../escaped.txt"), "x".getBytes());
        memory.put(Location.of("s3://bucket/evil/fine.txt"), "fine".getBytes());
        stores.with("s3", memory);
        Path out = folder.resolve("deep/out");

        CopyReport report = copier.copy(Location.of("s3://bucket/evil/"), Location.of(out), TransferListener.NONE);

        assertThat(report.failures()).singleElement().satisfies(f -> {
            assertThat(f.key()).isEqualTo("../../escaped.txt");
            assertThat(f.reason()).contains("refusing object key '../../escaped.txt'");
        });
        assertThat(Files.readString(out.resolve("fine.txt"))).isEqualTo("fine");
        assertThat(folder.resolve("escaped.txt")).doesNotExist();
        assertThat(folder.resolve("deep/escaped.txt")).doesNotExist();
    }

    @Test
    void a_full_disk_fails_the_object_by_name_and_leaves_no_partial_file() throws Exception {
        Path small = folder.resolve("small-disk");
        Files.createDirectories(small);
        // A 1 MiB tmpfs stands in for a full disk; the test runs as root on CI and on developer machines.
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small.toString())
                .redirectErrorStream(true).start();
        assertThat(mount.waitFor()).as(new String(mount.getInputStream().readAllBytes())).isZero();
        try {
            write("src/fits.bin", "x".repeat(100_000));
            write("src/too-big.bin", "y".repeat(3_000_000));

            // One object at a time, so the file that fits is written before the one that fills the disk.
            Copier oneByOne = new Copier(stores, new Copier.Options(1, false), Clock.systemUTC());
            CopyReport report = oneByOne.copy(Location.of(folder.resolve("src")), Location.of(small.resolve("dst")),
                    TransferListener.NONE);

            assertThat(report.failures()).singleElement().satisfies(failure -> {
                assertThat(failure.key()).isEqualTo("too-big.bin");
                assertThat(failure.reason()).contains("no space left on device").contains("too-big.bin");
            });
            try (Stream<Path> files = Files.walk(small)) {
                assertThat(files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()))
                        .containsExactly("fits.bin");
            }
        } finally {
            new ProcessBuilder("umount", small.toString()).start().waitFor();
        }
    }
}
