package ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectInputStream;
import ferry.store.ObjectListing;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.Stores;
import ferry.store.WriteOptions;
import ferry.store.local.LocalStore;
import ferry.testing.S3TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Random sequences of changes at both ends of a sync, with {@code ferry sync} run between them, each run checked
 * against a model of what the destination must then hold: the source, and without {@code --delete} what the
 * destination had before. Keys are drawn from a few names chosen to sort awkwardly ({@code a-b < a.x < a/}, and
 * {@code ｱ} before {@code 😀} in UTF-8 but after it in UTF-16); at a local destination a file may become a folder
 * and back. Local source files get times an hour old (so the recorded state is trusted for them) or fresh ones
 * (compared by checksum again), and some are rewritten with their old size and time put back, at either end. Runs
 * take {@code --delete}, {@code --dry-run}, {@code --exclude}, {@code --max-size}, {@code --size-only} (which must
 * leave an object of the same size alone, and must not stop the next checksum run from sending it) and
 * {@code --dataset}, and some are killed partway.
 *
 * <p>Each round prints nothing unless it fails; then the message gives its seed and every step taken. Replay one
 * with {@code -Dferry.model.seed=N}; run more rounds with {@code -Dferry.model.rounds=N}.
 */
class SyncModelIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ROUNDS = 6;
    private static final int STEPS = 40;
    private static final String EXCLUDED = "*.x";
    private static final int MAX_SIZE = 1500;
    private static S3TestServer server;
    private static int bucketNumber;

    @TempDir
    Path folder;

    @BeforeAll
    static void startServer() {
        server = S3TestServer.newServer();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    enum Pair {
        LOCAL_TO_LOCAL(false, false), LOCAL_TO_S3(false, true), S3_TO_LOCAL(true, false), S3_TO_S3(true, true);

        final boolean s3Source;
        final boolean s3Destination;

        Pair(boolean s3Source, boolean s3Destination) {
            this.s3Source = s3Source;
            this.s3Destination = s3Destination;
        }
    }

    @ParameterizedTest
    @EnumSource
    void random_changes_at_both_ends_and_syncs_leave_what_the_model_says(Pair pair) throws Exception {
        String fixed = System.getProperty("ferry.model.seed");
        long first = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
        int rounds = fixed != null ? 1 : Integer.getInteger("ferry.model.rounds", ROUNDS);
        for (int round = 0; round < rounds; round++) {
            new Round(pair, first + round, folder.resolve("round-" + round)).run();
        }
    }

    /** One sequence of steps from empty ends, with its own Ferry home (and so its own recorded state). */
    private static final class Round {
        private final Pair pair;
        private final long seed;
        private final Random random;
        private final Map<String, String> env;
        private final Stores stores;
        private final End source;
        private final End destination;
        private final List<String> steps = new ArrayList<>();
        private final Path folder;

        Round(Pair pair, long seed, Path folder) throws IOException {
            this.pair = pair;
            this.folder = Files.createDirectories(folder);
            this.seed = seed;
            this.random = new Random(seed);
            this.env = new HashMap<>(server.environment());
            env.put("FERRY_HOME", folder.resolve("home").toString());
            env.put("HOME", folder.toString());
            this.stores = Stores.fromEnvironment(env);
            String bucket = "model-" + (++bucketNumber);
            server.createBucket(bucket);
            this.source = pair.s3Source ? new S3End(stores, bucket, "src/") : new LocalEnd(folder.resolve("src"));
            this.destination = pair.s3Destination ? new S3End(stores, bucket, "dst/")
                    : new LocalEnd(folder.resolve("dst"));
        }

        void run() throws Exception {
            try (stores) {
                for (int step = 0; step < STEPS; step++) {
                    step();
                }
                // A last run with --delete always ends in the source's image.
                sync(true, false, false, false, false);
            } catch (AssertionError | Exception e) {
                throw new AssertionError(pair + ", seed " + seed + " (replay with -Dferry.model.seed=" + seed
                        + "), after these steps:\n  " + String.join("\n  ", steps) + "\n" + e.getMessage(), e);
            }
        }

        private void step() throws Exception {
            Map<String, byte[]> sourceObjects = source.contents();
            int dice = random.nextInt(100);
            if (dice < 30 || sourceObjects.isEmpty()) {
                write(source, newKey(), randomBytes(random.nextInt(3000)));
            } else if (dice < 40) {
                String key = pick(sourceObjects.keySet());
                boolean keepTime = random.nextBoolean();
                source.rewriteSameSize(key, flipOneByte(sourceObjects.get(key)), keepTime);
                steps.add("source: rewrite " + key + " with its old size" + (keepTime ? " and time" : ""));
            } else if (dice < 48) {
                String key = pick(sourceObjects.keySet());
                source.delete(key);
                steps.add("source: delete " + key);
            } else if (dice < 56) {
                Map<String, byte[]> destinationObjects = destination.contents();
                if (destinationObjects.isEmpty()) {
                    return;
                }
                String key = pick(destinationObjects.keySet());
                int change = random.nextInt(3);
                if (change == 0) {
                    destination.delete(key);
                    steps.add("destination: delete " + key + " behind Ferry's back");
                } else if (change == 1) {
                    destination.put(key, randomBytes(random.nextInt(3000)), null);
                    steps.add("destination: overwrite " + key + " behind Ferry's back");
                } else {
                    // Locally the size and time it recorded come back: only the file's change time tells.
                    destination.rewriteSameSize(key, flipOneByte(destinationObjects.get(key)), true);
                    steps.add("destination: rewrite " + key + " with its old size and time behind Ferry's back");
                }
            } else if (dice < 60) {
                String key = newKey();
                if (conflicts(destination.contents().keySet(), key) || destination.hasFolder(key)) {
                    return;
                }
                destination.put(key, randomBytes(random.nextInt(100)), null);
                steps.add("destination: add " + key);
            } else if (dice < 63) {
                killedSync(random.nextBoolean());
            } else {
                sync(random.nextInt(10) < 7, random.nextInt(10) == 0, random.nextInt(4) == 0, random.nextInt(5) == 0,
                        random.nextInt(6) == 0);
            }
        }

        /**
         * Runs {@code ferry sync} in a child process, slowed down, and kills it ({@code SIGKILL}) partway. Every object
         * at the destination must then be whole: its old bytes or the source's. The model takes the destination as it
         * is; the next runs must finish the work and clear what the killed one left (its temporary files).
         */
        private void killedSync(boolean delete) throws Exception {
            for (int i = 0; i < 3; i++) {
                write(source, newKey(), randomBytes(1000 + random.nextInt(2000))); // something to be killed amid
            }
            Map<String, byte[]> from = source.contents();
            Map<String, byte[]> before = destination.contents();
            if (from.isEmpty()) {
                return;
            }
            List<String> args = new ArrayList<>(List.of("sync", source.uri(), destination.uri(), "--bwlimit",
                    "2KB/s", "-j", "2"));
            if (delete) {
                args.add("--delete");
            }
            long killAfter = 500 + random.nextInt(2500);
            Process sync = ChildFerry.start(env, folder.resolve("killed.log"), args.toArray(String[]::new));
            boolean finished = sync.waitFor(killAfter, TimeUnit.MILLISECONDS);
            if (!finished) {
                sync.destroyForcibly();
                sync.waitFor();
            }
            steps.add(String.join(" ", args.subList(3, args.size())) + ", killed after " + killAfter + " ms"
                    + (finished ? " (it had finished)" : ""));
            Map<String, byte[]> after = destination.contents();
            for (Map.Entry<String, byte[]> object : after.entrySet()) {
                String key = object.getKey();
                assertThat(Arrays.equals(object.getValue(), from.get(key))
                        || Arrays.equals(object.getValue(), before.get(key)))
                        .as("%s after the kill is neither its old bytes nor the source's", key).isTrue();
            }
            for (String key : before.keySet()) {
                if (!after.containsKey(key)) {
                    assertThat(delete && !from.containsKey(key)).as("%s deleted by a killed run", key).isTrue();
                }
            }
        }

        /** Writes an object, first removing what stands in the way at the source (as a user replacing a folder). */
        private void write(End end, String key, byte[] bytes) throws IOException {
            for (String other : end.contents().keySet()) {
                if (!other.equals(key) && (other.startsWith(key + "/") || key.startsWith(other + "/"))) {
                    end.delete(other);
                    steps.add("source: delete " + other + ", in the way of " + key);
                }
            }
            FileTime time = random.nextBoolean() ? null
                    : FileTime.from(Instant.now().minusSeconds(3600 + random.nextInt(100)));
            end.put(key, bytes, time);
            steps.add("source: write " + key + " (" + bytes.length + " bytes" + (time == null ? "" : ", an hour old")
                    + ")");
        }

        /**
         * Runs {@code ferry sync} and checks its exit, its report and the destination against the model: which
         * objects must fail (a local file or folder that stays in the way), be copied, deleted, or stay.
         */
        private void sync(boolean delete, boolean dryRun, boolean exclude, boolean sizeLimit, boolean sizeOnly)
                throws Exception {
            Map<String, byte[]> all = source.contents();
            Map<String, byte[]> from = selected(all, exclude);
            // Objects over --max-size are not copied, but as the source has them, they are not deleted either.
            Map<String, byte[]> copied = new TreeMap<>(from);
            if (sizeLimit) {
                copied.values().removeIf(bytes -> bytes.length > MAX_SIZE);
            }
            Map<String, byte[]> before = destination.contents();
            List<String> args = new ArrayList<>(List.of("sync", source.uri(), destination.uri(), "--json"));
            if (delete) {
                args.add("--delete");
            }
            if (dryRun) {
                args.add("--dry-run");
            }
            if (exclude) {
                args.addAll(List.of("--exclude", EXCLUDED));
            }
            if (sizeLimit) {
                args.addAll(List.of("--max-size", Integer.toString(MAX_SIZE)));
            }
            if (sizeOnly) {
                args.add("--size-only"); // an object of the same size stays as it is, whatever its bytes
            }
            boolean record = !dryRun && random.nextInt(5) == 0;
            if (record) {
                args.addAll(List.of("--dataset", "model"));
            }
            String options = String.join(" ", args.subList(3, args.size()));
            if (all.isEmpty() || delete && copied.isEmpty()) {
                // Without --delete, filters that take nothing copy nothing; with it, the run would only delete.
                steps.add(options + ": expect a refusal, as " + (all.isEmpty() ? "the source has nothing to send"
                        : "the filters take nothing and --delete would only delete"));
                CliRun run = CliRun.run(env, args.toArray(String[]::new));
                assertThat(run.exitCode).as(run.toString()).isEqualTo(1);
                assertThat(run.err).as(run.toString()).contains(all.isEmpty() ? "has no objects" : "take none of");
                assertThat(keysAndBytes(destination.contents())).isEqualTo(keysAndBytes(before));
                return;
            }
            Set<String> kept = new HashSet<>(before.keySet()); // what stays at the destination if nothing is deleted
            if (delete) {
                kept.removeIf(key -> !from.containsKey(key) && !isExcluded(key, exclude));
            }
            Set<String> blocked = blocked(copied.keySet(), kept);
            if (delete && !blocked.isEmpty()) {
                // A failed run deletes nothing, so every copy a delete would have cleared the way for fails too.
                kept = new HashSet<>(before.keySet());
                blocked = blocked(copied.keySet(), kept);
            }
            boolean deletes = delete && blocked.isEmpty();
            Map<String, byte[]> expected = new TreeMap<>(before);
            int copies = 0;
            for (Map.Entry<String, byte[]> object : copied.entrySet()) {
                byte[] old = before.get(object.getKey());
                boolean differs = sizeOnly ? old == null || old.length != object.getValue().length
                        : !Arrays.equals(old, object.getValue());
                if (!blocked.contains(object.getKey()) && differs) {
                    copies++;
                    expected.put(object.getKey(), object.getValue());
                }
            }
            int deleted = 0;
            if (deletes) {
                for (String key : before.keySet()) {
                    if (!from.containsKey(key) && !isExcluded(key, exclude)) {
                        deleted++;
                        expected.remove(key);
                    }
                }
            }

            steps.add(options + ": expect " + copies + " copied, " + deleted + " deleted, failing " + blocked);
            CliRun ran = CliRun.run(env, args.toArray(String[]::new));
            String run = ran + "\nsource " + keysAndBytes(from) + "\ndestination before " + keysAndBytes(before);
            if (record && blocked.isEmpty() && expected.isEmpty()) {
                // The sync succeeded, and left nothing to record.
                assertThat(ran.exitCode).as(run).isEqualTo(1);
                assertThat(ran.err).as(run).contains("nothing to make a dataset of");
                assertThat(destination.contents()).as(run).isEmpty();
                return;
            }
            assertThat(ran.exitCode).as(run).isEqualTo(blocked.isEmpty() ? 0 : 1);
            JsonNode report = JSON.readTree(ran.out);
            List<String> failed = new ArrayList<>();
            report.get("failures").forEach(failure -> failed.add(failure.get("key").asText()));
            assertThat(failed).as(run).containsExactlyInAnyOrderElementsOf(blocked);

            assertThat(report.get("copied").get("objects").asInt()).as(run).isEqualTo(copies);
            assertThat(report.get("deleted").asInt()).as(run).isEqualTo(deleted);
            if (dryRun) {
                assertThat(keysAndBytes(destination.contents())).as("a dry run changed the destination")
                        .isEqualTo(keysAndBytes(before));
                if (blocked.isEmpty()) {
                    Set<String> planned = new HashSet<>();
                    report.get("plan").forEach(action -> planned.add(action.get("key").asText()));
                    Set<String> changes = new HashSet<>();
                    expected.forEach((key, bytes) -> {
                        if (!Arrays.equals(before.get(key), bytes)) {
                            changes.add(key);
                        }
                    });
                    before.keySet().stream().filter(key -> !expected.containsKey(key)).forEach(changes::add);
                    assertThat(planned).as(run).isEqualTo(changes);
                }
                return;
            }
            assertThat(keysAndBytes(destination.contents())).as(run).isEqualTo(keysAndBytes(expected));
            destination.checkTidy();
            if (record && blocked.isEmpty()) {
                // The version records the destination with the checksums the sync kept: verify re-reads every byte.
                assertThat(report.get("dataset").asText()).startsWith("model@v");
                JsonNode manifest = JSON.readTree(CliRun.run(env, "dataset", "show", "model", "--json").out);
                List<String> recorded = new ArrayList<>();
                manifest.get("entries").forEach(entry -> recorded.add(entry.get("key").asText()));
                assertThat(recorded).as(run).containsExactlyInAnyOrderElementsOf(expected.keySet());
                CliRun verify = CliRun.run(env, "dataset", "verify", "model");
                assertThat(verify.exitCode).as(verify + "\n" + run).isZero();
            }
        }

        private static Map<String, byte[]> selected(Map<String, byte[]> objects, boolean exclude) {
            Map<String, byte[]> selected = new TreeMap<>(objects);
            selected.keySet().removeIf(key -> isExcluded(key, exclude));
            return selected;
        }

        private static boolean isExcluded(String key, boolean exclude) {
            return exclude && key.endsWith(".x");
        }

        /** The copies a key that stays at the destination stands in the way of: a file where a folder must go. */
        private Set<String> blocked(Set<String> copies, Set<String> kept) {
            Set<String> blocked = new HashSet<>();
            if (pair.s3Destination) {
                return blocked; // keys in a bucket are not a tree
            }
            for (String key : copies) {
                if (conflicts(kept, key)) {
                    blocked.add(key);
                }
            }
            return blocked;
        }

        private static boolean conflicts(Set<String> keys, String key) {
            for (String other : keys) {
                if (!other.equals(key) && (other.startsWith(key + "/") || key.startsWith(other + "/"))) {
                    return true;
                }
            }
            return false;
        }

        /**
         * A key from a few names: {@code a-b}, {@code a.x} and {@code a/} sort in that order, {@code ｱ} and
         * {@code 😀} in opposite orders by UTF-8 bytes and by UTF-16 units. Into a bucket, files and folders take
         * different names: the test server keeps objects as files, so it cannot hold {@code a} and {@code a/b}
         * at once (S3 can; Ferry's sync makes a bucket hold what the source holds either way).
         */
        private String newKey() {
            String[] names = {"a", "a-b", "a.x", "ｱ", "😀"};
            String[] folders = {"d", "d-b", "ｱd", "😀d"};
            String[] files = {"d.x", "d0", "f", "ｱ", "😀"};
            boolean bucket = pair.s3Destination || pair.s3Source;
            int depth = 1 + random.nextInt(3);
            StringBuilder key = new StringBuilder();
            for (int level = 1; level < depth; level++) {
                key.append(bucket ? folders[random.nextInt(folders.length)] : names[random.nextInt(names.length)])
                        .append('/');
            }
            return key.append(bucket ? files[random.nextInt(files.length)] : names[random.nextInt(names.length)])
                    .toString();
        }

        private String pick(Set<String> keys) {
            List<String> list = new ArrayList<>(keys);
            return list.get(random.nextInt(list.size()));
        }

        private byte[] randomBytes(int size) {
            byte[] bytes = new byte[size];
            random.nextBytes(bytes);
            return bytes;
        }

        private byte[] flipOneByte(byte[] bytes) {
            byte[] changed = bytes.clone();
            if (changed.length > 0) {
                changed[random.nextInt(changed.length)] ^= 0x5a;
            }
            return changed;
        }

        /** Byte arrays compare by identity; their hex text by value, and prints readably in a failure. */
        private static Map<String, String> keysAndBytes(Map<String, byte[]> objects) {
            Map<String, String> text = new TreeMap<>();
            objects.forEach((key, bytes) -> text.put(key, HexFormat.of().formatHex(bytes, 0,
                    Math.min(bytes.length, 16)) + "… (" + bytes.length + " bytes, hash " + Arrays.hashCode(
                    bytes) + ")"));
            return text;
        }
    }

    /** One end of a sync, changed the way a user or another tool would change it. */
    private interface End {
        String uri();

        /** Writes an object; {@code time}, if given, becomes a local file's modification time. */
        void put(String key, byte[] bytes, FileTime time) throws IOException;

        /** Gives an object new bytes of its size; locally with its old modification time put back if asked. */
        void rewriteSameSize(String key, byte[] bytes, boolean keepTime) throws IOException;

        void delete(String key) throws IOException;

        Map<String, byte[]> contents() throws IOException;

        /** Whether a folder stands at the key: one a killed run made, holding only its temporary file. */
        boolean hasFolder(String key);

        /** Fails if Ferry left anything behind that is not an object: temporary files, empty folders. */
        void checkTidy() throws IOException;
    }

    private record LocalEnd(Path root) implements End {
        @Override
        public String uri() {
            return root.toString();
        }

        @Override
        public void put(String key, byte[] bytes, FileTime time) throws IOException {
            Path file = root.resolve(key);
            Files.createDirectories(file.getParent());
            Files.write(file, bytes);
            if (time != null) {
                Files.setLastModifiedTime(file, time);
            }
        }

        @Override
        public void rewriteSameSize(String key, byte[] bytes, boolean keepTime) throws IOException {
            Path file = root.resolve(key);
            FileTime time = Files.getLastModifiedTime(file);
            put(key, bytes, keepTime ? time : null);
        }

        @Override
        public void delete(String key) throws IOException {
            Path file = root.resolve(key);
            Files.delete(file);
            for (Path parent = file.getParent(); !parent.equals(root); parent = parent.getParent()) {
                try (Stream<Path> children = Files.list(parent)) {
                    if (children.findAny().isPresent()) {
                        break;
                    }
                }
                Files.delete(parent);
            }
        }

        @Override
        public boolean hasFolder(String key) {
            return Files.isDirectory(root.resolve(key));
        }

        /** Every file but Ferry's temporary ones, which a killed run leaves behind. */
        @Override
        public Map<String, byte[]> contents() throws IOException {
            Map<String, byte[]> contents = new TreeMap<>();
            if (!Files.exists(root)) {
                return contents;
            }
            try (Stream<Path> files = Files.walk(root)) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    if (!file.getFileName().toString().endsWith(LocalStore.TEMP_SUFFIX)) {
                        contents.put(root.relativize(file).toString(), Files.readAllBytes(file));
                    }
                }
            }
            return contents;
        }

        @Override
        public void checkTidy() throws IOException {
            if (!Files.exists(root)) {
                return;
            }
            try (Stream<Path> paths = Files.walk(root)) {
                for (Path path : paths.filter(p -> !p.equals(root)).toList()) {
                    assertThat(path.getFileName().toString()).as("a temporary file left behind")
                            .doesNotEndWith(LocalStore.TEMP_SUFFIX);
                    if (Files.isDirectory(path)) {
                        try (Stream<Path> children = Files.list(path)) {
                            assertThat(children.findAny()).as("empty folder left: " + path).isPresent();
                        }
                    }
                }
            }
        }
    }

    /** A prefix in the test server's bucket; some objects written by Ferry's store, some as another tool would. */
    private static final class S3End implements End {
        private final String bucket;
        private final String prefix;
        private final ObjectStore store;
        private final Location root;
        private boolean raw;

        S3End(Stores stores, String bucket, String prefix) throws IOException {
            this.bucket = bucket;
            this.prefix = prefix;
            this.root = Location.of("s3://" + bucket + "/" + prefix);
            this.store = stores.forLocation(root);
        }

        @Override
        public String uri() {
            return root.toString();
        }

        @Override
        public void put(String key, byte[] bytes, FileTime time) throws IOException {
            raw = !raw;
            if (raw) {
                server.putObject(bucket, prefix + key, bytes); // no CRC32C of Ferry's in its metadata
                return;
            }
            try (ObjectOutput out = store.createOrOverwrite(root.resolve(key), WriteOptions.DEFAULT)) {
                out.write(bytes);
                out.commit();
            }
        }

        @Override
        public void rewriteSameSize(String key, byte[] bytes, boolean keepTime) throws IOException {
            put(key, bytes, null);
        }

        @Override
        public void delete(String key) throws IOException {
            store.delete(root.resolve(key));
        }

        @Override
        public Map<String, byte[]> contents() throws IOException {
            Map<String, byte[]> contents = new TreeMap<>();
            ObjectListing listing = store.list(root);
            while (listing.hasNext()) {
                ObjectInfo object = listing.next();
                try (ObjectInputStream in = store.openStream(object.location())) {
                    contents.put(root.relativize(object.location()), in.readAllBytes());
                }
            }
            return contents;
        }

        @Override
        public boolean hasFolder(String key) {
            return false;
        }

        @Override
        public void checkTidy() {
            // A bucket has no folders, and Ferry's writes to it are single PUTs or completed multipart uploads.
        }
    }
}
