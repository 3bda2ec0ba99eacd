package ferry.train;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk that fills up while a File channel is staged (the free-space check was told there was room): the job
 * fails with a reason naming the channel and the disk, the process never starts. Plays the full disk with a 1 MiB
 * tmpfs, so it needs root, as CI has.
 */
class DiskFullTest {
    @TempDir
    Path folder;

    @Test
    void staging_onto_a_full_disk_fails_the_job_naming_the_channel() throws Exception {
        Path data = folder.resolve("data");
        Files.createDirectories(data);
        Random random = new Random(1);
        for (int i = 0; i < 4; i++) {
            byte[] bytes = new byte[512 * 1024];
            random.nextBytes(bytes);
            Files.write(data.resolve("part-" + i + ".bin"), bytes);
        }
        Path small = Files.createDirectories(folder.resolve("small"));
        run("mount", "-t", "tmpfs", "-o", "size=1m", "ferry-test-full", small.toString());
        try (TrainFixture fixture = new TrainFixture(folder.resolve("fixture"))) {
            fixture.options = fixture.options.withUsableSpace(path -> Long.MAX_VALUE);
            JobStore jobs = new JobStore(small.resolve("jobs"), java.time.Clock.systemUTC());
            ObjectNode request = fixture.request("full-disk", "train_env.py");
            TrainFixture.fileChannel(request, "train", data.toString());
            JobRunner runner = new JobRunner(jobs, fixture.stores, fixture.environment, java.time.Clock.systemUTC(),
                    fixture.options, line -> {});

            JobDescription job = runner.run(fixture.parse(request));

            assertThat(job.status()).isEqualTo("Failed");
            assertThat(job.failureReason()).startsWith("ClientError: channel 'train': ")
                    .contains("could not be staged").contains("no space left on device");
            assertThat(TrainFixture.statuses(job)).containsExactly("Starting", "Downloading", "Failed");
            assertThat(job.json().get("Ferry").has("ProcessId")).as("the process never started").isFalse();
            try (var files = Files.walk(jobs.tree("full-disk").channel("train"))) {
                assertThat(files.filter(p -> p.toString().endsWith(".ferry-tmp")).toList())
                        .as("no temporary file is left behind").isEmpty();
            }
        } finally {
            run("umount", small.toString());
        }
    }

    private static void run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor()).as(String.join(" ", command) + ": " + output).isZero();
    }
}
