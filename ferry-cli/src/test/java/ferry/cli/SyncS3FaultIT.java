package ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import ferry.testing.S3TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A sync whose S3 server goes away half way: a clear failure, and the next run completes once it is back. */
class SyncS3FaultIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path folder;

    @Test
    void the_server_stopping_mid_run_fails_the_run_clearly_and_the_next_run_completes() throws Exception {
        Path src = folder.resolve("src");
        Random random = new Random(11);
        int files = 200;
        for (int i = 0; i < files; i++) {
            byte[] bytes = new byte[16 * 1024];
            random.nextBytes(bytes);
            Path file = src.resolve("part" + (i % 4) + "/" + i + ".bin");
            Files.createDirectories(file.getParent());
            Files.write(file, bytes);
        }
        // On disk: a write the stop cuts off leaves a file behind in s3proxy's store, which the test server removes
        // (S3 never shows one); in memory it would stay, and break the server's own listings after the restart.
        try (S3TestServer server = S3TestServer.newServer()) {
            server.createBucket("fault");
            Map<String, String> env = new HashMap<>(server.environment());
            env.put("FERRY_HOME", folder.resolve("home").toString());
            String destination = "s3://fault/data/";
            Path log = folder.resolve("first.log");

            // A paced run in its own process, so the server can be stopped while it is part way through.
            Process first = ChildFerry.start(env, log, "sync", src.toString(), destination, "--bwlimit", "1MB/s",
                    "-j", "4", "--json");
            waitForObjects(env, destination);
            server.stop();
            assertThat(first.waitFor(120, TimeUnit.SECONDS)).as("the run ended on its own").isTrue();
            String output = Files.readString(log);
            assertThat(first.exitValue()).as(output).isEqualTo(1);
            assertThat(output).contains("cannot reach S3 endpoint");

            server.start();
            CliRun second = CliRun.run(env, "sync", src.toString(), destination, "--json");
            assertThat(second.exitCode).as(second.toString()).isZero();
            JsonNode report = JSON.readTree(second.out);
            long copied = report.get("copied").get("objects").asLong();
            assertThat(copied + report.get("skipped").get("objects").asLong()).isEqualTo(files);
            assertThat(copied).as("objects the first run finished are not sent again").isLessThan(files);

            CliRun ls = CliRun.run(env, "ls", destination, "--json");
            assertThat(ls.out.lines().count()).isEqualTo(files);
        }
    }

    /** Waits (bounded) until the run has written a few objects. */
    private static void waitForObjects(Map<String, String> env, String destination) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            CliRun ls = CliRun.run(env, "ls", destination);
            if (ls.out.lines().count() >= 5) {
                return;
            }
            Thread.sleep(50); // polling for the condition, bounded by the deadline
        }
        throw new AssertionError("the first run wrote nothing within 60 s");
    }
}
