package ferry.mount;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.cache.ChunkCache;
import ferry.store.Location;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.Stores;
import ferry.store.WriteOptions;
import ferry.testing.S3TestServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random sequences of changes in the store and reads through a prefix mount, each read checked against a model of
 * the objects: a file opened after a change reads the current version whole (with no metadata TTL), or with a TTL a
 * version the key has held, or fails; a file held open reads the version it opened, or fails, never another's bytes.
 * The cache's budget is a few chunks, so chunks are evicted all the time; the mount is restarted on the same cache
 * folder with a chunk damaged on disk in between. A failure gives its seed and steps; {@code -Dferry.model.seed=N}
 * replays it, {@code -Dferry.model.rounds=N} runs more.
 */
class MountModelIT {
    private static final int CHUNK = 64 * 1024;
    private static final int ROUNDS = 10;
    private static final int STEPS = 60;
    private static final String[] KEYS = {"f0", "f1", "d/f2", "d/f3", "d/e/f4"};
    private static final int[] SIZES = {0, 1, 100, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7, 6 * CHUNK};

    @TempDir
    Path folder;

    private S3TestServer server;
    private Stores stores;
    private int bucketNumber;

    @BeforeEach
    void setUp() {
        server = S3TestServer.newServer();
        stores = Stores.fromEnvironment(server.environment());
    }

    @AfterEach
    void tearDown() throws IOException {
        stores.close();
        server.close();
    }

    @ParameterizedTest(name = "metadata TTL {0} s")
    @ValueSource(ints = {0, 60})
    void random_changes_and_reads_never_see_a_mix_of_versions(int ttlSeconds) throws Exception {
        String fixed = System.getProperty("ferry.model.seed");
        long first = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
        int rounds = fixed != null ? 1 : Integer.getInteger("ferry.model.rounds", ROUNDS);
        for (int round = 0; round < rounds; round++) {
            new Round(first + round, Duration.ofSeconds(ttlSeconds), folder.resolve("round-" + round)).run();
        }
    }

    /**
     * An open file and the versions it may have opened: the current one, or with a metadata TTL any the key has held
     * (the mount's listing may lag); each read keeps those its bytes match, and one must always remain.
     */
    private record Open(String key, FileChannel channel, List<byte[]> candidates) {}

    private final class Round {
        private final long seed;
        private final Random random;
        private final Duration ttl;
        private final Path cacheFolder;
        private final Path mountPoint;
        private final Location prefix;
        private final ObjectStore s3;
        private final Map<String, byte[]> objects = new TreeMap<>();
        /** Every version each key has held, for reads a metadata TTL lets lag behind. */
        private final Map<String, List<byte[]>> versions = new HashMap<>();
        private final List<Open> open = new ArrayList<>();
        private final List<String> steps = new ArrayList<>();
        private ChunkCache cache;
        private Mount mount;

        Round(long seed, Duration ttl, Path folder) throws IOException {
            this.seed = seed;
            this.random = new Random(seed);
            this.ttl = ttl;
            this.cacheFolder = folder.resolve("cache");
            this.mountPoint = folder.resolve("mnt");
            this.prefix = server.createBucket("model-" + (++bucketNumber)).resolve("data/");
            this.s3 = stores.forLocation(prefix);
        }

        void run() throws Exception {
            try {
                put(KEYS[0]); // a prefix with nothing under it is an empty mount, which is fine, but dull
                start();
                for (int step = 0; step < STEPS; step++) {
                    step();
                }
            } catch (AssertionError | Exception e) {
                throw new AssertionError("TTL " + ttl + ", seed " + seed + " (replay with -Dferry.model.seed=" + seed
                        + "), after these steps:\n  " + String.join("\n  ", steps) + "\n" + e, e);
            } finally {
                stop();
            }
        }

        private void start() throws IOException {
            cache = ChunkCache.open(cacheFolder, 5L * CHUNK);
            mount = Mount.prefix(s3, prefix, mountPoint, cache,
                    MountOptions.DEFAULTS.withChunkSize(CHUNK).withMetadataTtl(ttl), Map.of());
        }

        private void stop() throws IOException {
            for (Open file : open) {
                file.channel().close();
            }
            open.clear();
            if (mount != null) {
                mount.close();
                mount = null;
            }
            if (cache != null) {
                cache.close();
                cache = null;
            }
        }

        private void step() throws Exception {
            int dice = random.nextInt(100);
            if (dice < 25) {
                put(KEYS[random.nextInt(KEYS.length)]);
            } else if (dice < 32 && !objects.isEmpty()) {
                String key = pick();
                s3.delete(prefix.resolve(key));
                objects.remove(key);
                steps.add("delete " + key);
            } else if (dice < 52) {
                readWhole(KEYS[random.nextInt(KEYS.length)]);
            } else if (dice < 62 && !objects.isEmpty()) {
                String key = pick();
                List<byte[]> candidates = new ArrayList<>(ttl.isZero() ? List.of(objects.get(key)) : versions.get(key));
                try {
                    open.add(new Open(key, FileChannel.open(mountPoint.resolve(key), StandardOpenOption.READ),
                            candidates));
                    steps.add("open " + key + " (" + objects.get(key).length + " bytes now)");
                } catch (IOException e) {
                    // With a TTL the mount may not list it yet, or may hold a version that is gone: not a model error.
                    assertThat(ttl.isZero()).as("open of a current object failed: " + e).isFalse();
                    steps.add("open " + key + " failed: " + e);
                }
            } else if (dice < 85 && !open.isEmpty()) {
                readOpen(open.get(random.nextInt(open.size())));
            } else if (dice < 90 && !open.isEmpty()) {
                Open file = open.remove(random.nextInt(open.size()));
                file.channel().close();
                steps.add("close " + file.key());
            } else if (dice < 95) {
                list();
            } else {
                restart();
            }
        }

        private void put(String key) throws IOException {
            byte[] bytes = new byte[SIZES[random.nextInt(SIZES.length)]];
            random.nextBytes(bytes);
            try (ObjectOutput out = s3.createOrOverwrite(prefix.resolve(key), WriteOptions.DEFAULT)) {
                out.write(bytes);
                out.commit();
            }
            objects.put(key, bytes);
            versions.computeIfAbsent(key, k -> new ArrayList<>()).add(bytes);
            steps.add("put " + key + " (" + bytes.length + " bytes)");
        }

        /** Opens, reads to the end and closes, as {@code cat} does. */
        private void readWhole(String key) {
            byte[] read;
            try {
                read = Files.readAllBytes(mountPoint.resolve(key));
            } catch (NoSuchFileException e) {
                steps.add("read " + key + ": not found");
                if (ttl.isZero()) {
                    assertThat(objects).as("a current object was not found").doesNotContainKey(key);
                }
                return;
            } catch (IOException e) {
                steps.add("read " + key + ": " + e.getMessage());
                // With no TTL every open sees the current version, which nothing replaces while it is read.
                assertThat(ttl.isZero()).as("a read of the current version failed: " + e).isFalse();
                return;
            }
            steps.add("read " + key + " (" + read.length + " bytes)");
            if (ttl.isZero()) {
                assertThat(objects).as("a deleted object was read").containsKey(key);
                assertThat(Arrays.equals(read, objects.get(key))).as("%s is not its current version", key).isTrue();
            } else {
                assertThat(versions.getOrDefault(key, List.of()).stream().anyMatch(v -> Arrays.equals(v, read)))
                        .as("%s read as no version it ever held: %d bytes; %s", key, read.length, likeness(read,
                                versions.getOrDefault(key, List.of()))).isTrue();
            }
        }

        /** A positional read of an open file: the bytes of the version it opened, or an error; never others. */
        private void readOpen(Open file) throws IOException {
            int size = file.candidates().get(random.nextInt(file.candidates().size())).length;
            long position = size == 0 ? 0 : random.nextInt(size + 1);
            ByteBuffer buffer = ByteBuffer.allocate(1 + random.nextInt(2 * CHUNK));
            int read;
            try {
                read = file.channel().read(buffer, position);
            } catch (IOException e) {
                steps.add("read open " + file.key() + " at " + position + ": " + e.getMessage());
                assertThat(ttl.isZero() && objects.get(file.key()) == file.candidates().getFirst())
                        .as("a read of an open, unchanged object failed: " + e).isFalse();
                return;
            }
            steps.add("read open " + file.key() + " at " + position + ": " + read + " bytes");
            byte[] now = objects.get(file.key());
            int got = Math.max(read, 0);
            file.candidates().removeIf(version -> read <= 0
                    ? position < version.length && !endedByAnother(file.key(), version, position, now)
                    : position + got > version.length
                    || !Arrays.equals(buffer.array(), 0, got, version, (int) position, (int) position + got));
            assertThat(file.candidates()).as("%s at %d: %d bytes of no version it may have opened; %s", file.key(),
                    position, read, likeness(Arrays.copyOf(buffer.array(), got), versions.get(file.key()).stream()
                            .map(v -> Arrays.copyOfRange(v, (int) Math.min(position, v.length), v.length)).toList()))
                    .isNotEmpty();
        }

        /**
         * Whether an open file of {@code version} may end at {@code position} before its own end: the kernel holds one
         * size per path, and once the mount has described another, smaller version to it, an open file of the old one
         * ends there (docs/SEMANTICS.md). With no TTL that is the current version; with one, any the key has held.
         */
        private boolean endedByAnother(String key, byte[] version, long position, byte[] now) {
            if (ttl.isZero()) {
                return now != version && position >= (now == null ? 0 : now.length);
            }
            return now == null || versions.get(key).stream().anyMatch(v -> v != version && position >= v.length);
        }

        private void list() throws IOException {
            TreeSet<String> listed = new TreeSet<>();
            try (Stream<Path> paths = Files.walk(mountPoint)) {
                paths.filter(Files::isRegularFile).forEach(p -> listed.add(mountPoint.relativize(p).toString()));
            }
            steps.add("list: " + listed);
            if (ttl.isZero()) {
                assertThat(listed).as("listing").isEqualTo(objects.keySet());
            }
        }

        /** Unmounts, damages a cached chunk on disk, and mounts again on the same cache folder. */
        private void restart() throws IOException {
            stop();
            List<Path> chunks;
            try (Stream<Path> files = Files.walk(cacheFolder.resolve("chunks"))) {
                chunks = files.filter(Files::isRegularFile)
                        .filter(p -> p.getFileName().toString().matches("[0-9a-f]{64}\\.[0-9]+")).toList();
            }
            String damaged = "";
            if (!chunks.isEmpty()) {
                Path chunk = chunks.get(random.nextInt(chunks.size()));
                try (FileChannel channel = FileChannel.open(chunk, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    // The chunk's own bytes, whose length begins the 24-byte trailer (after them: a description).
                    ByteBuffer trailer = ByteBuffer.allocate(24);
                    channel.read(trailer, channel.size() - 24);
                    int length = trailer.getInt(0);
                    if (length > 0) {
                        ByteBuffer one = ByteBuffer.allocate(1);
                        long at = random.nextInt(length);
                        channel.read(one, at);
                        one.put(0, (byte) (one.get(0) ^ 0x40)).rewind();
                        channel.write(one, at);
                        damaged = ", a byte of " + cacheFolder.relativize(chunk) + " flipped";
                    }
                }
            }
            start();
            steps.add("restart" + damaged);
        }

        /** For a failure: how far the bytes read agree with each version, and whether the rest is zeros. */
        private static String likeness(byte[] read, List<byte[]> versions) {
            List<String> each = new ArrayList<>();
            for (byte[] version : versions) {
                int same = Arrays.mismatch(read, version);
                each.add(version.length + " bytes: same for " + (same < 0 ? read.length : same));
            }
            int lastNonZero = read.length - 1;
            while (lastNonZero >= 0 && read[lastNonZero] == 0) {
                lastNonZero--;
            }
            return "versions " + each + ", zeros from " + (lastNonZero + 1);
        }

        private String pick() {
            List<String> keys = new ArrayList<>(objects.keySet());
            return keys.get(random.nextInt(keys.size()));
        }
    }
}
