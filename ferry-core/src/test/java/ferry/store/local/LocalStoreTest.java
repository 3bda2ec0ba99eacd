package ferry.store.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import ferry.checksum.Crc32c;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectListing;
import ferry.store.ObjectOutput;
import ferry.store.PassedOver;
import ferry.store.WriteOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What only the local store does: its temporary files, and flushing large files while they are written. */
class LocalStoreTest {
    @TempDir
    Path folder;

    @Test
    void listing_removes_temporary_files_of_dead_writers_and_keeps_live_ones() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path abandoned = folder.resolve(".data.bin." + gone.pid() + "@" + WriterMark.HOST + ".1f2e"
                + LocalStore.TEMP_SUFFIX);
        Path olderFormat = folder.resolve(".old.bin." + gone.pid() + ".5a6b" + LocalStore.TEMP_SUFFIX);
        Path live = LocalStore.tempFor(folder.resolve("other.bin"));
        // Left by an earlier process that had this pid too (a restarted container's pid 1): not this one's.
        Path predecessor = folder.resolve(".prev.bin." + ProcessHandle.current().pid() + "@" + WriterMark.HOST
                + ".zzzz1" + LocalStore.TEMP_SUFFIX);
        // On a folder shared with other hosts (NFS), a writer elsewhere cannot be looked up by its pid: its file is
        // left alone until it has not changed for an hour.
        Path otherHostWriting = folder.resolve(".nfs.bin." + gone.pid() + "@0badc0de.7e8f" + LocalStore.TEMP_SUFFIX);
        Path otherHostGone = folder.resolve(".nfs2.bin." + gone.pid() + "@0badc0de.9a0b" + LocalStore.TEMP_SUFFIX);
        for (Path temp : List.of(abandoned, olderFormat, live, predecessor, otherHostWriting, otherHostGone)) {
            Files.writeString(temp, "half");
        }
        Files.setLastModifiedTime(otherHostGone, FileTime.from(Instant.now().minus(Duration.ofMinutes(61))));
        Files.writeString(folder.resolve("real.bin"), "whole");

        ObjectListing listing = new LocalStore().list(Location.of(folder).asDirectory());
        assertThat(listing.next().location().name()).isEqualTo("real.bin");
        assertThat(listing.hasNext()).isFalse();

        assertThat(abandoned).doesNotExist();
        assertThat(olderFormat).doesNotExist();
        assertThat(predecessor).doesNotExist();
        assertThat(otherHostGone).doesNotExist();
        assertThat(live).exists();
        assertThat(otherHostWriting).exists();
    }

    @Test
    void listing_follows_links_to_files_and_passes_over_in_key_order_what_is_not_a_file_naming_each() throws Exception {
        Path source = Files.createDirectories(folder.resolve("source"));
        Path elsewhere = Files.createDirectories(folder.resolve("elsewhere"));
        Files.writeString(elsewhere.resolve("target.bin"), "reached through a link");
        Files.writeString(source.resolve("a.bin"), "a file");
        Files.createDirectories(source.resolve("d"));
        Files.writeString(source.resolve("d/f.bin"), "in a folder");
        Files.createSymbolicLink(source.resolve("b-link.bin"), elsewhere.resolve("target.bin"));
        Files.createSymbolicLink(source.resolve("c-folder-link"), elsewhere);
        Files.createSymbolicLink(source.resolve("d/broken"), folder.resolve("nowhere"));
        Files.createSymbolicLink(source.resolve("d/loop"), source.resolve("d/loop"));
        assertThat(new ProcessBuilder("mkfifo", source.resolve("e-pipe").toString()).start().waitFor()).isZero();
        try (var socket = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            socket.bind(java.net.UnixDomainSocketAddress.of(source.resolve("f-socket")));

            ObjectListing listing = new LocalStore().list(Location.of(source).asDirectory());
            List<String> listed = new java.util.ArrayList<>();
            while (listing.hasNext()) {
                listed.add(Location.of(source).asDirectory().relativize(listing.next().location()));
            }

            assertThat(listed).containsExactly("a.bin", "b-link.bin", "d/f.bin");
            assertThat(listing.passedOver()).extracting(PassedOver::key, PassedOver::what).containsExactly(
                    tuple("c-folder-link", PassedOver.FOLDER_LINK),
                    tuple("d/broken", "a symbolic link that cannot be followed (broken, or a loop)"),
                    tuple("d/loop", "a symbolic link that cannot be followed (broken, or a loop)"),
                    tuple("e-pipe", "a named pipe"),
                    tuple("f-socket", "a socket"));
        }
    }

    @Test
    void a_listing_that_follows_links_walks_links_to_folders_in_key_order_and_passes_over_loops() throws Exception {
        Path source = Files.createDirectories(folder.resolve("source"));
        Path elsewhere = Files.createDirectories(folder.resolve("elsewhere"));
        Files.writeString(elsewhere.resolve("x.bin"), "reached through a link");
        Files.createDirectories(elsewhere.resolve("deeper"));
        Files.writeString(elsewhere.resolve("deeper/y.bin"), "further down");
        Files.createSymbolicLink(elsewhere.resolve("back-to-top"), elsewhere); // a loop inside the linked folder
        Files.writeString(source.resolve("a.bin"), "a file");
        Files.createSymbolicLink(source.resolve("b"), elsewhere);
        Files.writeString(source.resolve("b.bin"), "sorts after b/ as S3 orders keys");
        Files.createDirectories(source.resolve("c"));
        Files.createSymbolicLink(source.resolve("c/up"), source); // a loop back to the listed folder

        ObjectListing listing = new LocalStore().listFollowingLinks(Location.of(source).asDirectory(), null);
        List<String> listed = new java.util.ArrayList<>();
        while (listing.hasNext()) {
            listed.add(Location.of(source).asDirectory().relativize(listing.next().location()));
        }

        assertThat(listed).containsExactly("a.bin", "b.bin", "b/deeper/y.bin", "b/x.bin");
        assertThat(listing.passedOver()).extracting(PassedOver::key, PassedOver::what).containsExactly(
                tuple("b/back-to-top", "a symbolic link to a folder that holds it (a loop), not followed"),
                tuple("c/up", "a symbolic link to a folder that holds it (a loop), not followed"));
        try (var in = new LocalStore().openStream(Location.of(source.resolve("b/deeper/y.bin")))) {
            assertThat(in.readAllBytes()).asString().isEqualTo("further down");
        }
    }

    @Test
    void listing_removes_the_folders_a_dead_writer_made_for_its_file_and_keeps_every_other_folder() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        String dead = "." + gone.pid() + "@" + WriterMark.HOST + ".1f2e" + LocalStore.TEMP_SUFFIX;
        Path root = Files.createDirectories(folder.resolve("root"));
        // A write killed half way: the folders made for its file hold only its temporary file.
        Files.createDirectories(root.resolve("new/deeper"));
        Files.writeString(root.resolve("new/deeper/.a.bin" + dead), "half");
        // A folder that holds a file besides the temporary one, and an empty folder nobody wrote in, stay.
        Files.createDirectories(root.resolve("kept"));
        Files.writeString(root.resolve("kept/.b.bin" + dead), "half");
        Files.writeString(root.resolve("kept/whole.bin"), "whole");
        Files.createDirectories(root.resolve("empty"));
        Files.writeString(root.resolve(".c.bin" + dead), "half");

        ObjectListing listing = new LocalStore().list(Location.of(root).asDirectory());
        assertThat(listing.next().location().path()).endsWith("kept/whole.bin");
        assertThat(listing.hasNext()).isFalse();

        assertThat(root.resolve("new")).doesNotExist();
        assertThat(root.resolve("kept/whole.bin")).exists();
        assertThat(root.resolve("empty")).isEmptyDirectory();
        assertThat(root).isDirectory();
    }

    @Test
    void a_file_whose_name_is_near_the_file_system_limit_is_written_and_its_temporary_file_fits_too()
            throws Exception {
        // 255 bytes is the most a file name may hold on ext4, xfs and tmpfs; the temporary name adds Ferry's mark.
        String[] names = {"n".repeat(255), "\u00e9".repeat(127) + "x", "\uD83D\uDE00".repeat(63) + "abc"};
        LocalStore store = new LocalStore();
        for (String name : names) {
            byte[] bytes = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            assertThat(bytes).hasSizeLessThanOrEqualTo(255);
            Location location = Location.of(folder.resolve(name));
            try (ObjectOutput out = store.createOrOverwrite(location, WriteOptions.DEFAULT)) {
                out.write(bytes);
                out.commit();
            }
            assertThat(Files.readAllBytes(folder.resolve(name))).isEqualTo(bytes);
            assertThat(LocalStore.tempFor(folder.resolve(name)).getFileName().toString()
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8)).hasSizeLessThanOrEqualTo(255);
        }
        try (var files = Files.list(folder)) {
            assertThat(files.map(f -> f.getFileName().toString()).toList()).containsExactlyInAnyOrder(names);
        }
    }

    @Test
    void a_file_flushed_in_the_background_while_written_commits_whole() throws Exception {
        byte[] piece = new byte[1 << 20];
        CRC32C crc = new CRC32C();
        Random random = new Random(7);
        int pieces = (int) (3 * LocalOutput.FLUSH_EVERY / piece.length) + 1;
        Location target = Location.of(folder.resolve("large.bin"));
        ObjectInfo written;
        try (ObjectOutput out = new LocalStore().createOrOverwrite(target, WriteOptions.DEFAULT)) {
            for (int i = 0; i < pieces; i++) {
                random.nextBytes(piece);
                crc.update(piece);
                out.write(piece);
            }
            written = out.commit();
        }
        // the flushes ran ahead of the commit, on the flusher's threads (idle ones live on for a minute)
        assertThat(Thread.getAllStackTraces().keySet())
                .anySatisfy(thread -> assertThat(thread.getName()).startsWith("ferry-flush-"));
        assertThat(written.size()).isEqualTo((long) pieces * piece.length);
        assertThat(written.crc32c()).isEqualTo(Crc32c.hex(crc.getValue()));
        CRC32C reread = new CRC32C();
        reread.update(Files.readAllBytes(folder.resolve("large.bin")));
        assertThat(Crc32c.hex(reread.getValue())).isEqualTo(written.crc32c());
        try (var files = Files.list(folder)) {
            assertThat(files).containsExactly(folder.resolve("large.bin"));
        }
    }

    @Test
    void a_large_write_given_up_while_flushing_leaves_nothing() throws Exception {
        byte[] piece = new byte[1 << 20];
        Location target = Location.of(folder.resolve("given-up.bin"));
        try (ObjectOutput out = new LocalStore().createOrOverwrite(target, WriteOptions.DEFAULT)) {
            for (int i = 0; i < 2 * LocalOutput.FLUSH_EVERY / piece.length; i++) {
                out.write(piece);
            }
        }
        try (var files = Files.list(folder)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void a_write_onto_a_folder_names_the_folder_not_the_temporary_file_and_leaves_nothing() throws Exception {
        Path taken = Files.createDirectories(folder.resolve("taken.bin"));
        Location target = Location.of(taken);
        try (ObjectOutput out = new LocalStore().createOrOverwrite(target, WriteOptions.DEFAULT)) {
            out.write("data".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            org.assertj.core.api.Assertions.assertThatThrownBy(out::commit)
                    .isInstanceOf(ferry.store.StoreException.class)
                    .hasMessageContaining(taken + ": is a folder")
                    .hasMessageNotContaining(LocalStore.TEMP_SUFFIX);
        }
        try (var files = Files.list(folder)) {
            assertThat(files).containsExactly(taken);
        }
        assertThat(taken).isEmptyDirectory();
    }

    @Test
    void a_write_below_a_file_says_the_file_is_not_a_folder() throws Exception {
        Path file = Files.writeString(folder.resolve("plain"), "a file");
        for (String below : List.of("x.bin", "sub/x.bin")) {
            Location target = Location.of(file.resolve(below));
            org.assertj.core.api.Assertions.assertThatThrownBy(
                            () -> new LocalStore().createOrOverwrite(target, WriteOptions.DEFAULT))
                    .as(below)
                    .isInstanceOf(ferry.store.StoreException.class)
                    .hasMessageContaining(file + ": is a file, not a folder");
        }
        assertThat(file).hasContent("a file");
    }

    @Test
    // A hang guard, in a thread of its own: opening a pipe as a folder waited for a writer, uninterruptibly.
    @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void a_named_pipe_given_as_the_prefix_lists_nothing_and_is_not_opened() throws Exception {
        Path pipe = folder.resolve("pipe");
        assertThat(new ProcessBuilder("mkfifo", pipe.toString()).start().waitFor()).isZero();

        assertThat(new LocalStore().list(Location.of(pipe).asDirectory()).hasNext()).isFalse();
    }
}
