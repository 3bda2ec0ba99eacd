package ferry.mount;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ferry.cache.ChunkCache;
import ferry.dataset.DatasetCatalog;
import ferry.dataset.Manifest;
import ferry.store.Location;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.Stores;
import ferry.store.WriteOptions;
import ferry.testing.S3TestServer;
import ferry.transfer.TransferListener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real FUSE mounts of a prefix and of a dataset version, served from the in-process S3 server. */
class MountIT {
    private static final int CHUNK = 256 * 1024;

    @TempDir
    Path folder;

    private S3TestServer server;
    private Stores stores;
    private ObjectStore s3;
    private Location prefix;
    private ChunkCache cache;
    private Mount mount;

    @BeforeEach
    void setUp() throws IOException {
        server = S3TestServer.newServer();
        prefix = server.createBucket("mount").resolve("data/");
        stores = Stores.fromEnvironment(server.environment());
        s3 = stores.forLocation(prefix);
        cache = ChunkCache.open(folder.resolve("cache"), 1L << 30);
    }

    @AfterEach
    void tearDown() throws IOException {
        if (mount != null) {
            mount.close();
        }
        cache.close();
        stores.close();
        server.close();
    }

    private byte[] put(String key, byte[] bytes) throws IOException {
        try (ObjectOutput out = s3.createOrOverwrite(prefix.resolve(key), WriteOptions.DEFAULT)) {
            out.write(bytes);
            out.commit();
        }
        return bytes;
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private Path mountPrefix(Duration ttl) throws IOException {
        mount = Mount.prefix(s3, prefix, folder.resolve("mnt"), cache,
                MountOptions.DEFAULTS.withChunkSize(CHUNK).withMetadataTtl(ttl), Map.of());
        return mount.mountPoint();
    }

    @Test
    void a_prefix_mount_shows_the_tree_and_reads_every_byte() throws IOException {
        byte[] small = put("cats/1.txt", "meow".getBytes(UTF_8));
        byte[] large = put("large.bin", random(5 * CHUNK + 1234, 1));
        put("cats/2.txt", new byte[0]);
        put("dogs/deep/er/3.txt", "woof".getBytes(UTF_8));

        Path root = mountPrefix(Duration.ofSeconds(60));

        try (Stream<Path> children = Files.list(root)) {
            assertThat(children.map(p -> p.getFileName().toString()).sorted())
                    .containsExactly("cats", "dogs", "large.bin");
        }
        assertThat(Files.isDirectory(root.resolve("dogs/deep/er"))).isTrue();
        assertThat(Files.readAllBytes(root.resolve("cats/1.txt"))).isEqualTo(small);
        assertThat(Files.readAllBytes(root.resolve("cats/2.txt"))).isEmpty();
        assertThat(Files.size(root.resolve("large.bin"))).isEqualTo(large.length);
        assertThat(Files.readAllBytes(root.resolve("large.bin"))).isEqualTo(large);
        assertThat(Files.readString(root.resolve("dogs/deep/er/3.txt"))).isEqualTo("woof");
        assertThat(Files.exists(root.resolve("cats/missing.txt"))).isFalse();
    }

    @Test
    void python_seeks_and_numpy_memory_maps_read_the_same_bytes_as_the_store() throws Exception {
        // float32 values 0, 1, 2, ... across several chunks: any byte out of place changes the sums
        int count = 3 * CHUNK / 4 + 100;
        ByteBuffer floats = ByteBuffer.allocate(count * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            floats.putFloat(i);
        }
        put("arrays/values.f32", floats.array());
        Path file = mountPrefix(Duration.ofSeconds(60)).resolve("arrays/values.f32");

        String script = String.join("\n",
                "import sys, numpy",
                "a = numpy.memmap(sys.argv[1], dtype='<f4', mode='r')",
                "print(len(a), int(a[::7].astype(numpy.float64).sum()), int(a[-1]))",
                "with open(sys.argv[1], 'rb') as f:",
                "    f.seek(4 * 123457); x = numpy.frombuffer(f.read(8), dtype='<f4')",
                "    print(int(x[0]), int(x[1]))");
        Process python = new ProcessBuilder("/usr/bin/python3", "-c", script, file.toString())
                .redirectErrorStream(true).start();
        String output = new String(python.getInputStream().readAllBytes(), UTF_8).strip();
        assertThat(python.waitFor()).as(output).isZero();

        long everySeventh = 0;
        for (long i = 0; i < count; i += 7) {
            everySeventh += i;
        }
        assertThat(output.lines().toList())
                .containsExactly(count + " " + everySeventh + " " + (count - 1), "123457 123458");
    }

    @Test
    void positional_reads_anywhere_return_the_right_bytes() throws IOException {
        byte[] bytes = put("random.bin", random(7 * CHUNK + 99, 2));
        Path file = mountPrefix(Duration.ofSeconds(60)).resolve("random.bin");

        Random random = new Random(3);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            for (int i = 0; i < 200; i++) {
                int position = random.nextInt(bytes.length);
                int length = 1 + random.nextInt(3 * CHUNK);
                ByteBuffer buffer = ByteBuffer.allocate(length);
                int n = channel.read(buffer, position);
                int expected = Math.min(length, bytes.length - position);
                // a read may return fewer bytes than asked; whatever it returns must be the object's bytes
                assertThat(n).isPositive().isLessThanOrEqualTo(expected);
                assertThat(Arrays.copyOf(buffer.array(), n))
                        .isEqualTo(Arrays.copyOfRange(bytes, position, position + n));
            }
        }
    }

    @Test
    void writes_fail_with_a_read_only_error_and_change_nothing() throws IOException {
        put("a.txt", "a".getBytes(UTF_8));
        Path root = mountPrefix(Duration.ofSeconds(60));

        assertThatThrownBy(() -> Files.writeString(root.resolve("new.txt"), "x"))
                .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
        assertThatThrownBy(() -> Files.writeString(root.resolve("a.txt"), "x"))
                .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
        assertThatThrownBy(() -> Files.delete(root.resolve("a.txt")))
                .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
        assertThatThrownBy(() -> Files.createDirectory(root.resolve("d")))
                .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
        assertThat(Files.readString(root.resolve("a.txt"))).isEqualTo("a");
    }

    @Test
    void a_dataset_mount_answers_listings_and_sizes_from_its_manifest_without_the_store() throws Exception {
        for (int i = 0; i < 50; i++) {
            put("images/class" + (i % 5) + "/" + i + ".jpg", ("image " + i).getBytes(UTF_8));
        }
        DatasetCatalog catalog = new DatasetCatalog(stores, server.createBucket("catalog"), Clock.systemUTC(), 4);
        Manifest manifest = catalog.create("pics", prefix, false, DatasetCatalog.KnownChecksums.NONE,
                TransferListener.NONE);
        mount = Mount.dataset(s3, manifest, folder.resolve("mnt"), cache, MountOptions.DEFAULTS, Map.of());
        Path root = mount.mountPoint();
        assertThat(Files.readString(root.resolve("images/class1/1.jpg"))).isEqualTo("image 1");

        server.stop(); // no listing or HEAD can be answered now

        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        assertThat(files).hasSize(50);
        for (Manifest.Entry entry : manifest.entries()) {
            Path file = root.resolve(entry.key());
            assertThat(Files.size(file)).isEqualTo(entry.size());
            assertThat(Files.getLastModifiedTime(file).toInstant()).isEqualTo(entry.lastModified());
        }
        assertThat(Files.readString(root.resolve("images/class1/1.jpg"))).isEqualTo("image 1"); // cached
    }

    @Test
    void a_file_replaced_under_a_prefix_mount_fails_with_eio_instead_of_mixing_versions() throws IOException {
        byte[] old = put("model.bin", random(6 * CHUNK, 20));
        Path file = mountPrefix(Duration.ofSeconds(60)).resolve("model.bin");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer first = ByteBuffer.allocate(1000);
            channel.read(first, 0);
            assertThat(first.array()).isEqualTo(Arrays.copyOf(old, 1000));

            put("model.bin", random(6 * CHUNK, 21)); // a new version: a new ETag

            ByteBuffer later = ByteBuffer.allocate(1000);
            assertThatThrownBy(() -> channel.read(later, 5L * CHUNK))
                    .isInstanceOf(IOException.class).hasMessageContaining("Input/output error");
        }
    }

    @Test
    void after_a_replaced_file_fails_a_new_open_reads_the_new_version_whole_not_the_old_versions_cached_pages()
            throws IOException {
        byte[] old = put("mixed.bin", random(8 * CHUNK, 50));
        Path file = mountPrefix(Duration.ofSeconds(60)).resolve("mixed.bin");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer page = ByteBuffer.allocate(4096);
            channel.read(page, CHUNK); // this page of the old version stays in the kernel's page cache
            assertThat(page.array()).isEqualTo(Arrays.copyOfRange(old, CHUNK, CHUNK + 4096));
        }
        byte[] now = put("mixed.bin", random(8 * CHUNK, 51)); // same size, within the attribute timeout
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            assertThatThrownBy(() -> channel.read(ByteBuffer.allocate(4096), 7L * CHUNK))
                    .hasMessageContaining("Input/output error"); // the listing is dropped; a new open sees the new one
        }

        byte[] read = Files.readAllBytes(file);
        assertThat(Arrays.equals(read, now)).as("the new version whole (the old page inside: %s)",
                Arrays.equals(read, CHUNK, CHUNK + 4096, old, CHUNK, CHUNK + 4096)).isTrue();
    }

    @Test
    void a_file_replaced_by_one_of_its_size_within_the_same_second_is_not_read_from_the_old_versions_pages()
            throws IOException {
        byte[] old = put("weights.bin", random(4 * CHUNK, 24));
        Instant listed = s3.stat(prefix.resolve("weights.bin")).lastModified();
        FileTime time = Files.getLastModifiedTime(server.objectFile("mount", "data/weights.bin"));
        Path file = mountPrefix(Duration.ZERO).resolve("weights.bin");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer half = ByteBuffer.allocate(2 * CHUNK);
            while (half.hasRemaining() && channel.read(half, half.position()) > 0) {
                // the first half only: its pages stay in the kernel's page cache after the close
            }
            assertThat(half.array()).isEqualTo(Arrays.copyOf(old, 2 * CHUNK));
        }

        byte[] now = put("weights.bin", random(4 * CHUNK, 25));
        Files.setLastModifiedTime(server.objectFile("mount", "data/weights.bin"), time); // as on S3: same second
        assertThat(s3.stat(prefix.resolve("weights.bin")).lastModified()).as("the new version's time").isEqualTo(listed);

        // All new bytes: the old version's cached first half followed by the new second half would mix the two.
        byte[] read = Files.readAllBytes(file);
        boolean oldFirstHalf = Arrays.equals(read, 0, 2 * CHUNK, old, 0, 2 * CHUNK);
        assertThat(Arrays.equals(read, now)).as("the new version, whole (the old first half: %s)", oldFirstHalf)
                .isTrue();
    }

    @Test
    void a_file_replaced_by_one_of_another_size_is_not_read_cut_or_padded_to_the_size_the_kernel_holds()
            throws IOException {
        int[][] replacements = {{4 * CHUNK, CHUNK + 100}, {CHUNK + 100, 4 * CHUNK}};
        for (int[] sizes : replacements) {
            put("shard-" + sizes[0] + ".bin", random(sizes[0], 30));
        }
        Path root = mountPrefix(Duration.ofSeconds(60));
        for (int[] sizes : replacements) {
            String name = "shard-" + sizes[0] + ".bin";
            byte[] old = random(sizes[0], 30);
            assertThat(Files.size(root.resolve(name))).isEqualTo(old.length); // the kernel holds this size now
            byte[] now = put(name, random(sizes[1], 31));
            // The first read fails (the object changed) and drops the mount's listing; the kernel keeps the old
            // size for the TTL all the same, so a later read of the new version would end at the old size.
            for (int attempt = 0; attempt < 3; attempt++) {
                try {
                    byte[] read = Files.readAllBytes(root.resolve(name));
                    assertThat(Arrays.equals(read, old) || Arrays.equals(read, now))
                            .as("attempt %d read %d bytes of neither version (old %d, new %d)", attempt, read.length,
                                    old.length, now.length)
                            .isTrue();
                } catch (IOException e) {
                    assertThat(e).hasMessageContaining("Input/output error");
                }
            }
        }
    }

    @Test
    void a_file_held_open_never_reads_the_pages_a_later_open_read_of_a_newer_version_of_its_size() throws IOException {
        byte[] old = put("held.bin", random(4 * CHUNK, 40));
        Path root = mountPrefix(Duration.ofSeconds(60));
        Path file = root.resolve("held.bin");
        try (FileChannel held = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer first = ByteBuffer.allocate(100);
            held.read(first, 0);
            assertThat(first.array()).isEqualTo(Arrays.copyOf(old, 100));

            byte[] now = put("held.bin", random(4 * CHUNK, 41)); // same size: the kernel keeps one page cache for both
            // A read the held file has not made yet fails (the object changed) and drops the mount's listing; a
            // listing then hands the kernel the new version's attributes, and a new open reads the new version.
            assertThatThrownBy(() -> held.read(ByteBuffer.allocate(100), 3L * CHUNK))
                    .hasMessageContaining("Input/output error");
            try (Stream<Path> listed = Files.list(root)) {
                assertThat(listed).contains(file);
            }
            assertThat(Files.readAllBytes(file)).isEqualTo(now);

            ByteBuffer later = ByteBuffer.allocate(CHUNK);
            try {
                int read = held.read(later, 2L * CHUNK);
                assertThat(Arrays.equals(later.array(), 0, read, old, 2 * CHUNK, 2 * CHUNK + read))
                        .as("the held file read bytes of the version it did not open").isTrue();
            } catch (IOException e) {
                assertThat(e).hasMessageContaining("Input/output error"); // its version is gone from the store
            }
        }
    }

    @Test
    void with_the_server_down_reads_fail_with_eio_and_the_mount_recovers_when_it_returns() throws IOException {
        byte[] bytes = put("later.bin", random(3 * CHUNK, 22));
        Path root = mountPrefix(Duration.ofSeconds(60));
        assertThat(Files.size(root.resolve("later.bin"))).isEqualTo(bytes.length); // listed while the server is up

        server.stop();
        assertThatThrownBy(() -> Files.readAllBytes(root.resolve("later.bin")))
                .isInstanceOf(IOException.class).hasMessageContaining("Input/output error");
        try (Stream<Path> children = Files.list(root)) { // the mount is alive: its listing is still served
            assertThat(children).hasSize(1);
        }

        server.start();
        assertThat(Files.readAllBytes(root.resolve("later.bin"))).isEqualTo(bytes);
    }

    @Test
    void with_the_cache_disk_full_reads_still_work_uncached() throws Exception {
        Path tiny = folder.resolve("tiny");
        Files.createDirectories(tiny);
        Process tmpfs = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", tiny.toString())
                .inheritIO().start();
        assertThat(tmpfs.waitFor()).as("mounting a 256 KiB tmpfs (needs root)").isZero();
        try {
            cache.close();
            cache = ChunkCache.open(tiny.resolve("cache"), 1L << 30); // a budget far above what the disk holds
            byte[] bytes = put("big.bin", random(8 * CHUNK, 23));
            Path root = mountPrefix(Duration.ofSeconds(60));

            assertThat(Files.readAllBytes(root.resolve("big.bin"))).isEqualTo(bytes);
            assertThat(Files.readAllBytes(root.resolve("big.bin"))).isEqualTo(bytes);
        } finally {
            if (mount != null) {
                mount.close();
                mount = null;
            }
            cache.close();
            new ProcessBuilder("umount", tiny.toString()).inheritIO().start().waitFor();
        }
    }

    @Test
    void a_dataset_object_corrupted_in_the_store_is_never_served() throws Exception {
        byte[] bytes = put("weights/w.bin", random(100_000, 24));
        DatasetCatalog catalog = new DatasetCatalog(stores, server.createBucket("catalog"), Clock.systemUTC(), 4);
        Manifest manifest = catalog.create("weights", prefix, false, DatasetCatalog.KnownChecksums.NONE,
                TransferListener.NONE);
        Path stored = server.objectFile("mount", "data/weights/w.bin");
        byte[] corrupt = Files.readAllBytes(stored);
        corrupt[50_000] ^= 1;
        Files.write(stored, corrupt);

        mount = Mount.dataset(s3, manifest, folder.resolve("mnt"), cache, MountOptions.DEFAULTS, Map.of());

        assertThat(Files.size(mount.mountPoint().resolve("weights/w.bin"))).isEqualTo(bytes.length);
        assertThatThrownBy(() -> Files.readAllBytes(mount.mountPoint().resolve("weights/w.bin")))
                .isInstanceOf(IOException.class).hasMessageContaining("Input/output error");
    }

    @Test
    void a_dataset_object_replaced_in_the_store_fails_and_the_log_says_to_restore_it_or_make_a_new_version()
            throws Exception {
        put("frozen/f.bin", random(100_000, 60));
        DatasetCatalog catalog = new DatasetCatalog(stores, server.createBucket("frozen-catalog"), Clock.systemUTC(),
                4);
        Manifest manifest = catalog.create("frozen", prefix, false, DatasetCatalog.KnownChecksums.NONE,
                TransferListener.NONE);
        put("frozen/f.bin", random(100_000, 61)); // same size, a new ETag
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger(FerryFileSystem.class.getName());
        List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                logged.add(record.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(handler);
        try {
            mount = Mount.dataset(s3, manifest, folder.resolve("mnt"), cache, MountOptions.DEFAULTS, Map.of());
            assertThatThrownBy(() -> Files.readAllBytes(mount.mountPoint().resolve("frozen/f.bin")))
                    .isInstanceOf(IOException.class).hasMessageContaining("Input/output error");
        } finally {
            logger.removeHandler(handler);
        }
        assertThat(logged).anySatisfy(line -> assertThat(line).contains("frozen/f.bin")
                .contains("changed in the store after the dataset version recorded it").contains("ferry dataset create")
                .doesNotContain("metadata TTL"));
    }

    @Test
    void a_mount_point_held_by_a_live_mount_is_refused() throws IOException {
        put("a.txt", "a".getBytes(UTF_8));
        Path root = mountPrefix(Duration.ofSeconds(60));
        assertThatThrownBy(() -> Mount.prefix(s3, prefix, root, cache, MountOptions.DEFAULTS, Map.of()))
                .isInstanceOf(IOException.class).hasMessageContaining("already mounted");
        assertThat(Files.readString(root.resolve("a.txt"))).isEqualTo("a");
    }

    @Test
    void a_mount_point_that_holds_files_is_refused_naming_one_and_left_as_it_was() throws IOException {
        put("a.txt", "a".getBytes(UTF_8));
        Path mnt = Files.createDirectories(folder.resolve("mnt"));
        Files.writeString(mnt.resolve("notes.txt"), "mine");
        assertThatThrownBy(() -> Mount.prefix(s3, prefix, mnt, cache, MountOptions.DEFAULTS, Map.of()))
                .isInstanceOf(IOException.class).hasMessageContaining("is not empty (it holds notes.txt");
        assertThat(Mount.isMountPoint(mnt.toRealPath())).isFalse();
        assertThat(Files.readString(mnt.resolve("notes.txt"))).isEqualTo("mine");
    }

    @Test
    void a_live_mount_whose_store_is_down_is_refused_as_live_not_taken_for_stale() throws IOException {
        put("a.txt", "a".getBytes(UTF_8));
        Path root = mountPrefix(Duration.ZERO); // the folder is listed again at every look
        server.stop();

        // the mount answers, if with an error: it is live, and is neither unmounted nor reported as that error
        assertThatThrownBy(() -> Mount.cleanStaleMount(root)).isInstanceOf(IOException.class)
                .hasMessageContaining("already mounted");
        assertThat(mount.isMounted()).isTrue();
        server.start();
    }

    @Test
    void a_mount_point_reached_through_a_symbolic_link_stays_mounted_and_is_not_mounted_twice() throws IOException {
        put("a.txt", "a".getBytes(UTF_8));
        Path real = Files.createDirectories(folder.resolve("real"));
        Path link = Files.createSymbolicLink(folder.resolve("link"), real);
        mount = Mount.prefix(s3, prefix, link.resolve("mnt"), cache, MountOptions.DEFAULTS, Map.of());

        // ferry mount stops once isMounted says false (it takes that for an unmount from outside)
        assertThat(mount.isMounted()).isTrue();
        assertThat(Files.readString(real.resolve("mnt/a.txt"))).isEqualTo("a");
        Mount stacked = null;
        try {
            stacked = Mount.prefix(s3, prefix, link.resolve("mnt"), cache, MountOptions.DEFAULTS, Map.of());
        } catch (IOException e) {
            assertThat(e).hasMessageContaining("already mounted");
        } finally {
            if (stacked != null) {
                stacked.close();
            }
        }
        assertThat(stacked).as("a second mount stacked on the first").isNull();
    }

    @Test
    void a_mount_point_that_is_another_file_systems_mount_point_is_mounted_over_and_an_unmount_from_outside_is_seen()
            throws Exception {
        put("a.txt", "a".getBytes(UTF_8));
        Path mnt = Files.createDirectories(folder.resolve("mnt"));
        // a volume mounted at the mount point, as a container runtime does
        assertThat(new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt.toString()).inheritIO()
                .start().waitFor()).as("mounting a tmpfs (needs root)").isZero();
        try {
            mount = Mount.prefix(s3, prefix, mnt, cache, MountOptions.DEFAULTS, Map.of());
            assertThat(mount.isMounted()).isTrue();
            assertThat(Files.readString(mnt.resolve("a.txt"))).isEqualTo("a");

            assertThat(new ProcessBuilder("fusermount3", "-u", mnt.toString()).inheritIO().start().waitFor())
                    .isZero();
            assertThat(mount.isMounted()).as("seen unmounted: ferry mount then stops").isFalse();
        } finally {
            if (mount != null) {
                mount.close();
                mount = null;
            }
            new ProcessBuilder("umount", mnt.toString()).inheritIO().start().waitFor();
        }
    }

    @Test
    void tar_with_sparse_file_detection_archives_every_byte_of_a_file() throws Exception {
        byte[] bytes = put("model.bin", random(3 * CHUNK + 5, 30));
        Path root = mountPrefix(Duration.ofSeconds(60));
        Path out = Files.createDirectories(folder.resolve("out"));

        // GNU tar --sparse (and du) go by the blocks a file occupies: a file that occupies none is taken for a hole.
        assertThat(new ProcessBuilder("tar", "--sparse", "-cf", out.resolve("a.tar").toString(), "-C", root.toString(),
                "model.bin").inheritIO().start().waitFor()).isZero();
        assertThat(new ProcessBuilder("tar", "-xf", "a.tar").directory(out.toFile()).inheritIO().start().waitFor())
                .isZero();
        assertThat(Arrays.mismatch(Files.readAllBytes(out.resolve("model.bin")), bytes)).as("the first wrong byte")
                .isEqualTo(-1);
    }

    @Test
    void a_folder_listed_while_objects_arrive_lists_each_entry_once() throws IOException {
        Path source = Files.createDirectories(folder.resolve("source/many"));
        for (int i = 0; i < 3000; i++) {
            Files.writeString(source.resolve("b-a-rather-long-file-name-to-fill-buffers-" + i + ".jpg"), "x");
        }
        ObjectStore local = stores.forLocation(Location.of(folder.resolve("source")));
        mount = Mount.prefix(local, Location.of(folder.resolve("source")).asDirectory(), folder.resolve("mnt"), cache,
                MountOptions.DEFAULTS.withMetadataTtl(Duration.ZERO), Map.of());

        List<String> listed = new java.util.ArrayList<>();
        try (java.nio.file.DirectoryStream<Path> children =
                Files.newDirectoryStream(mount.mountPoint().resolve("many"))) {
            var iterator = children.iterator();
            listed.add(iterator.next().getFileName().toString()); // the first of several readdir calls has answered
            for (int i = 0; i < 100; i++) { // meanwhile new objects arrive, named before the ones not yet listed
                Files.writeString(source.resolve("a-new-" + i + ".jpg"), "x");
            }
            iterator.forEachRemaining(child -> listed.add(child.getFileName().toString()));
        }
        assertThat(listed).doesNotHaveDuplicates()
                .filteredOn(name -> name.startsWith("b-")).hasSize(3000);
    }

    @Test
    void a_folder_too_large_for_one_readdir_buffer_lists_every_entry_once_with_its_size() throws IOException {
        List<Manifest.Entry> entries = new java.util.ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            entries.add(new Manifest.Entry("many/a-rather-long-file-name-to-fill-buffers-" + i + ".jpg", i, null, null,
                    "etag", java.time.Instant.EPOCH));
        }
        Manifest manifest = new Manifest(Manifest.FORMAT, "many", 1, prefix.toString(), java.time.Instant.EPOCH, null,
                null, entries);
        mount = Mount.dataset(s3, manifest, folder.resolve("mnt"), cache, MountOptions.DEFAULTS, Map.of());

        List<Path> listed;
        try (Stream<Path> children = Files.list(mount.mountPoint().resolve("many"))) {
            listed = children.toList();
        }
        assertThat(listed).hasSize(3000).doesNotHaveDuplicates();
        assertThat(Files.size(mount.mountPoint().resolve("many/a-rather-long-file-name-to-fill-buffers-2999.jpg")))
                .isEqualTo(2999);
    }
}
