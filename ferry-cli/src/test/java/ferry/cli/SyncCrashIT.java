package ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 a sync at random moments: nothing half-written ever appears under a final name, and the next run
 * completes, sending only what is missing and leaving no temporary files.
 */
class SyncCrashIT {
    @TempDir
    Path folder;

    @Test
    void a_sync_killed_at_random_moments_resumes_and_completes() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        Path src = folder.resolve("src");
        Path dst = folder.resolve("dst");
        int files = 300;
        for (int i = 0; i < files; i++) {
            byte[] bytes = new byte[32 * 1024];
            random.nextBytes(bytes);
            Path file = src.resolve("shard" + (i % 5) + "/" + i + ".bin");
            Files.createDirectories(file.getParent());
            Files.write(file, bytes);
        }
        Map<String, String> env = Map.of("FERRY_HOME", folder.resolve("home").toString());
        Path log = folder.resolve("child.log");

        for (int round = 0; round < 4; round++) {
            Process sync = ChildFerry.start(env, log, "sync", src.toString(), dst.toString(), "--bwlimit", "3MB/s",
                    "-j", "8");
            long killAfter = 700 + random.nextInt(1200);
            boolean finished = sync.waitFor(killAfter, TimeUnit.MILLISECONDS);
            if (!finished) {
                sync.destroyForcibly(); // SIGKILL
                sync.waitFor();
            }
            assertEveryVisibleFileIsWhole(src, dst, "round " + round + ", seed " + seed);
        }

        long alreadyThere = Files.exists(dst)
                ? relativeFiles(dst).stream().filter(k -> !k.endsWith(".ferry-tmp")).count() : 0;
        CliRun last = CliRun.run(env, "sync", src.toString(), dst.toString(), "--json");
        assertThat(last.exitCode).as(last + "\nseed " + seed).isZero();
        JsonNode report = new ObjectMapper().readTree(last.out);
        long copied = report.get("copied").get("objects").asLong();
        assertThat(copied + report.get("skipped").get("objects").asLong()).isEqualTo(files);
        // Objects the killed runs finished are not sent again (some may be finished but not yet journaled).
        assertThat(copied).as("the last run re-sent finished objects; seed " + seed)
                .isLessThanOrEqualTo(files - alreadyThere + 8);
        assertThat(relativeFiles(dst)).isEqualTo(relativeFiles(src));
        assertEveryVisibleFileIsWhole(src, dst, "after the last run, seed " + seed);
    }

    private static void assertEveryVisibleFileIsWhole(Path src, Path dst, String when) throws Exception {
        if (!Files.exists(dst)) {
            return;
        }
        for (String key : relativeFiles(dst)) {
            if (key.endsWith(".ferry-tmp")) {
                continue; // a temporary name is not a final one; the last run must have removed them all
            }
            assertThat(Files.readAllBytes(dst.resolve(key))).as(key + " at " + when)
                    .isEqualTo(Files.readAllBytes(src.resolve(key)));
        }
    }

    /** Every file, temporary ones included, so that litter fails the comparison. */
    private static List<String> relativeFiles(Path root) throws Exception {
        try (Stream<Path> paths = Files.walk(root)) {
            return paths.filter(Files::isRegularFile)
                    .map(p -> root.relativize(p).toString())
                    .sorted()
                    .toList();
        }
    }
}
