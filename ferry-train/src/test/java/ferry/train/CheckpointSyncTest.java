package ferry.train;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.store.Location;
import ferry.store.PassedOver;
import ferry.store.Stores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint uploads while the script changes the folder, as training libraries do. */
class CheckpointSyncTest {
    @TempDir
    Path folder;

    @Test
    void checkpoints_the_script_removes_during_an_upload_are_skipped_not_fatal() throws Exception {
        Path checkpoints = folder.resolve("checkpoints");
        Files.createDirectories(checkpoints);
        AtomicBoolean running = new AtomicBoolean(true);
        // Like save_total_limit: write checkpoint-N/, then remove checkpoint-(N-1)/, over and over.
        Thread script = Thread.ofPlatform().start(() -> {
            try {
                for (int n = 0; running.get(); n++) {
                    Path next = checkpoints.resolve("checkpoint-" + n);
                    Files.createDirectories(next);
                    for (int i = 0; i < 20; i++) {
                        Files.writeString(next.resolve("shard-" + i + ".bin"), "step " + n + " shard " + i);
                    }
                    Path old = checkpoints.resolve("checkpoint-" + (n - 1));
                    if (Files.exists(old)) {
                        try (Stream<Path> files = Files.walk(old)) {
                            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                                Files.delete(p);
                            }
                        }
                    }
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        try (Stores stores = Stores.fromEnvironment(Map.of())) {
            CheckpointSync sync = new CheckpointSync(stores, Location.of(folder.resolve("store")).asDirectory(),
                    checkpoints, 4);
            long uploaded = 0;
            // 200 passes at least (none may throw), then on until one uploaded something: on a loaded machine the
            // script can delete every checkpoint of a pass before its upload reaches it.
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            for (int pass = 0; pass < 200 || uploaded == 0 && System.nanoTime() < deadline; pass++) {
                uploaded += sync.upload().files();
            }
            assertThat(uploaded).isPositive();
        } finally {
            running.set(false);
            script.join();
        }
    }

    @Test
    void what_is_not_a_file_is_passed_over_and_named_once_and_changed_files_go_again() throws Exception {
        Path checkpoints = folder.resolve("checkpoints");
        Files.createDirectories(checkpoints.resolve("step-1"));
        Files.writeString(checkpoints.resolve("step-1/model.pt"), "weights 1");
        Files.createSymbolicLink(checkpoints.resolve("latest"), checkpoints.resolve("step-1"));
        assertThat(new ProcessBuilder("mkfifo", checkpoints.resolve("events").toString()).start().waitFor()).isZero();
        Path store = folder.resolve("store");
        try (Stores stores = Stores.fromEnvironment(Map.of())) {
            CheckpointSync sync = new CheckpointSync(stores, Location.of(store).asDirectory(), checkpoints, 4);

            CheckpointSync.Counts first = sync.upload();
            assertThat(first.files()).isEqualTo(1);
            assertThat(first.passedOver()).extracting(PassedOver::key).containsExactly("events", "latest");
            assertThat(first.passedOver().getFirst().what()).isEqualTo("a named pipe");
            assertThat(Files.readString(store.resolve("step-1/model.pt"))).isEqualTo("weights 1");

            CheckpointSync.Counts unchanged = sync.upload();
            assertThat(unchanged.files()).isZero();
            assertThat(unchanged.passedOver()).as("named in the job log once, not at every pass").isEmpty();

            Files.writeString(checkpoints.resolve("step-1/model.pt"), "weights 2!");
            assertThat(sync.upload().files()).isEqualTo(1);
            assertThat(Files.readString(store.resolve("step-1/model.pt"))).isEqualTo("weights 2!");
        }
    }
}
