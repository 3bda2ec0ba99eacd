package ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.testing.S3TestServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ferry mount as a user runs it: SIGTERM unmounts; after kill -9 the next mount cleans up and reuses the cache; an
 * unmount from outside ends the process; many open files do not run it out of memory.
 */
class MountCrashIT {
    @TempDir
    Path folder;

    @Test
    void after_kill_9_the_next_mount_cleans_the_stale_mount_and_reuses_the_cache_without_serving_a_bad_chunk()
            throws Exception {
        byte[] bytes = new byte[6 << 20]; // six 1 MiB chunks
        new Random(1).nextBytes(bytes);
        Path src = folder.resolve("src");
        Files.createDirectories(src.resolve("d"));
        Files.write(src.resolve("d/model.bin"), bytes);
        Path mnt = folder.resolve("mnt");
        Path cache = folder.resolve("cache");
        try (S3TestServer server = S3TestServer.newServer()) {
            Map<String, String> env = uploaded(server, src);
            String[] mount = {"mount", "s3://fastfile/data/", mnt.toString(), "--cache-dir", cache.toString()};

            Process first = ChildFerry.start(env, folder.resolve("first.log"), mount);
            waitForMount(first, folder.resolve("first.log"));
            assertThat(Files.readAllBytes(mnt.resolve("d/model.bin"))).isEqualTo(bytes);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (chunkFiles(cache).size() < 6 && System.nanoTime() < deadline) {
                Thread.sleep(10); // chunks are written to the cache just after they are served
            }
            // After a stat of a file (as ls -l, find or a data loader makes), the kernel answers a stat of the dead
            // mount's root from its cache: the next mount must not take that for a live mount.
            Files.readAttributes(mnt.resolve("d/model.bin"), java.nio.file.attribute.BasicFileAttributes.class);
            first.destroyForcibly(); // SIGKILL: nothing unmounts
            first.waitFor();
            assertThat(isStale(mnt)).as("the mount point is left broken").isTrue();

            // a chunk damaged on disk (a torn write, a bad sector) must be caught, not served
            List<Path> chunks = chunkFiles(cache);
            assertThat(chunks).hasSize(6);
            byte[] chunk = Files.readAllBytes(chunks.get(2));
            chunk[12345] ^= 0x10;
            Files.write(chunks.get(2), chunk);

            long getsBefore = server.requests("GET");
            Process second = ChildFerry.start(env, folder.resolve("second.log"), mount);
            waitForMount(second, folder.resolve("second.log"));
            assertThat(Files.readAllBytes(mnt.resolve("d/model.bin"))).isEqualTo(bytes);
            // listing the two folders twice (the check that the prefix is not empty, then the mount), then the one
            // damaged chunk: the other five come from the cache
            assertThat(server.requests("GET") - getsBefore).isEqualTo(5);

            second.destroy(); // SIGTERM unmounts
            assertThat(second.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(isMounted(mnt)).isFalse();
            assertThat(Files.readString(folder.resolve("second.log"))).contains("dropping corrupt cache chunk");
        } finally {
            unmountIfMounted(mnt);
        }
    }

    @Test
    void many_files_read_by_turns_keep_the_mount_within_a_small_heap() throws Exception {
        // 40 files of 48 chunks read by turns: each would keep a read-ahead window of up to 34 chunks of 64 KiB,
        // 87 MB in all, in a mount given 64 MiB of heap; only a few files may keep theirs.
        int files = 40;
        int size = 3 << 20;
        Path src = folder.resolve("src");
        Files.createDirectories(src);
        byte[][] contents = new byte[files][];
        for (int i = 0; i < files; i++) {
            contents[i] = new byte[size];
            new Random(i).nextBytes(contents[i]);
            Files.write(src.resolve(String.format("shard-%02d.bin", i)), contents[i]);
        }
        Path mnt = folder.resolve("mnt");
        try (S3TestServer server = S3TestServer.newServer()) {
            Map<String, String> env = uploaded(server, src);
            Path log = folder.resolve("mount.log");
            Process mount = ChildFerry.start(List.of("-Xmx64m",
                    "-XX:ErrorFile=" + folder.resolve("hs_err_%p.log")), env, log, "mount", "s3://fastfile/data/",
                    mnt.toString(), "--chunk-size", "64KiB", "--cache-dir", folder.resolve("cache").toString());
            try {
                waitForMount(mount, log);
                // A mount that runs out of memory may hang rather than die: the reads get a deadline, after which
                // the mount is killed, which fails them.
                ExecutorService reader = Executors.newSingleThreadExecutor();
                Future<?> reads = reader.submit(() -> {
                    readByTurns(mnt, contents, 256 << 10);
                    return null;
                });
                try {
                    reads.get(120, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    mount.destroyForcibly();
                    throw new AssertionError("reads by turns did not finish in 120 s; the mount's log:\n"
                            + Files.readString(log), e);
                } finally {
                    reader.shutdownNow();
                }
                assertThat(mount.isAlive()).isTrue();
                assertThat(Files.readString(log)).doesNotContain("OutOfMemoryError");

                mount.destroy();
                assertThat(mount.waitFor(30, TimeUnit.SECONDS)).isTrue();
            } finally {
                mount.destroyForcibly();
            }
        } finally {
            unmountIfMounted(mnt);
        }
    }

    /** Opens every shard, then reads {@code step} bytes of each in turn to the end, checking every byte. */
    private static void readByTurns(Path mnt, byte[][] contents, int step) throws IOException {
        List<FileChannel> open = new ArrayList<>();
        try {
            for (int i = 0; i < contents.length; i++) {
                open.add(FileChannel.open(mnt.resolve(String.format("shard-%02d.bin", i))));
            }
            ByteBuffer buffer = ByteBuffer.allocate(step);
            for (int offset = 0; offset < contents[0].length; offset += step) {
                for (int i = 0; i < contents.length; i++) {
                    buffer.clear();
                    while (buffer.hasRemaining() && open.get(i).read(buffer) > 0) {
                        // a FUSE read returns at most 128 KiB
                    }
                    assertThat(buffer.position()).as("shard %d at %d", i, offset).isEqualTo(step);
                    assertThat(Arrays.equals(buffer.array(), 0, step, contents[i], offset, offset + step))
                            .as("shard %d at %d", i, offset).isTrue();
                }
            }
        } finally {
            for (FileChannel channel : open) {
                channel.close();
            }
        }
    }

    @Test
    void unmounted_from_outside_the_mount_process_stops_by_itself() throws Exception {
        Path src = folder.resolve("src");
        Files.createDirectories(src);
        Files.writeString(src.resolve("a.txt"), "hello");
        Path mnt = folder.resolve("mnt");
        try (S3TestServer server = S3TestServer.newServer()) {
            Map<String, String> env = uploaded(server, src);
            Path log = folder.resolve("mount.log");
            Process mount = ChildFerry.start(env, log, "mount", "s3://fastfile/data/", mnt.toString());
            waitForMount(mount, log);
            assertThat(Files.readString(mnt.resolve("a.txt"))).isEqualTo("hello");

            assertThat(new ProcessBuilder("fusermount3", "-u", mnt.toString()).inheritIO().start().waitFor())
                    .isZero();

            assertThat(mount.waitFor(30, TimeUnit.SECONDS)).as("ferry mount exits").isTrue();
            assertThat(mount.exitValue()).isZero();
            assertThat(Files.readString(log)).contains(mnt + " was unmounted from outside; stopped");
            assertThat(isMounted(mnt)).isFalse();
        } finally {
            unmountIfMounted(mnt);
        }
    }

    /** Uploads {@code src} to s3://fastfile/data/ and returns the environment ferry runs with. */
    private Map<String, String> uploaded(S3TestServer server, Path src) {
        server.createBucket("fastfile");
        Map<String, String> env = new HashMap<>(server.environment());
        env.put("FERRY_HOME", folder.resolve("home").toString());
        assertThat(CliRun.run(env, "cp", src.toString(), "s3://fastfile/data/").exitCode).isZero();
        return env;
    }

    private static void unmountIfMounted(Path mnt) throws Exception {
        if (isMounted(mnt)) {
            new ProcessBuilder("fusermount3", "-u", "-z", mnt.toString()).inheritIO().start().waitFor();
        }
    }

    private static void waitForMount(Process process, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (Files.readAllLines(log).stream().noneMatch(line -> line.startsWith("mounted "))) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("ferry mount did not come up:\n" + Files.readString(log));
            }
            Thread.sleep(20);
        }
    }

    private static List<Path> chunkFiles(Path cache) throws IOException {
        if (!Files.isDirectory(cache.resolve("chunks"))) {
            return List.of();
        }
        while (true) {
            try (Stream<Path> files = Files.walk(cache.resolve("chunks"))) {
                return files.filter(Files::isRegularFile)
                        .filter(p -> p.getFileName().toString().matches("[0-9a-f]{64}\\.[0-9]+")).sorted().toList();
            } catch (java.io.UncheckedIOException e) {
                if (!(e.getCause() instanceof java.nio.file.NoSuchFileException)) {
                    throw e;
                }
                // a temporary chunk file was renamed into place while the walk passed it: walk again
            }
        }
    }

    private static boolean isStale(Path mnt) {
        try (var entries = Files.newDirectoryStream(mnt)) {
            return false;
        } catch (FileSystemException e) {
            return String.valueOf(e.getReason()).contains("not connected");
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean isMounted(Path mnt) throws IOException {
        String target = " " + mnt.toAbsolutePath() + " ";
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().anyMatch(l -> l.contains(target));
    }
}
