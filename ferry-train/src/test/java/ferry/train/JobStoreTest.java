package ferry.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Jobs as found on disk, including those whose runner went away. */
class JobStoreTest {
    @TempDir
    Path folder;

    private JobStore jobs() {
        return new JobStore(folder.resolve("jobs"), Clock.systemUTC());
    }

    private JobTree inProgress(String id, String runnerPid) throws Exception {
        JobStore jobs = jobs();
        JobTree tree = jobs.create(id);
        tree.layOut();
        TrainingRequest request = new RequestParser(Map.of(), folder).parse("""
                {"TrainingJobName": "%s", "AlgorithmSpecification": {"Command": "true"},
                 "OutputDataConfig": {"S3OutputPath": "/tmp/out/"}}""".formatted(id.split("@")[0]), false, "x",
                folder);
        JobDescription description = JobDescription.start(request, Instant.now(), tree.root().toString(),
                List.of("algo-1"), "algo-1");
        description.write(tree.description());
        Files.writeString(tree.runnerPid(), runnerPid + "\n");
        return tree;
    }

    @Test
    void a_job_whose_runner_died_is_shown_stopped_and_stop_records_it() throws Exception {
        JobTree tree = inProgress("orphan", "2147483646");
        JobStore.Job job = jobs().get("orphan");
        assertThat(job.running()).isFalse();
        assertThat(job.description().status()).isEqualTo("Stopped");
        assertThat(job.description().json().get("SecondaryStatusTransitions").get(1).get("StatusMessage").asText())
                .contains("runner (ferry train) ended without finishing the job");

        assertThat(jobs().stop("orphan")).isTrue();
        assertThat(JobDescription.read(tree.description()).status()).isEqualTo("Stopped");
        assertThat(jobs().stop("orphan")).isFalse();
    }

    @Test
    void a_runner_is_alive_only_with_its_pid_and_start_time() throws Exception {
        ProcessHandle self = ProcessHandle.current();
        inProgress("alive", self.pid() + " " + self.info().startInstant().orElseThrow());
        inProgress("reused", self.pid() + " 2001-01-01T00:00:00Z");
        assertThat(jobs().get("alive").running()).isTrue();
        assertThat(jobs().get("alive").description().status()).isEqualTo("InProgress");
        assertThat(jobs().get("reused").running()).as("a reused pid is not the runner").isFalse();
        assertThatThrownBy(() -> jobs().delete("alive")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("still running: stop it first");
        assertThat(jobs().list()).extracting(JobStore.Job::id).containsExactlyInAnyOrder("alive", "reused");
    }

    @Test
    void a_job_whose_runner_has_only_just_created_its_folder_cannot_be_removed() throws Exception {
        // ferry train creates the folder before it writes the description: rm must not pull it from under the runner.
        JobTree tree = jobs().create("new-job"); // as the runner does, from this live process

        assertThatThrownBy(() -> jobs().delete("new-job")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("job 'new-job' is starting (its runner, ferry train, is alive)");
        assertThat(tree.root()).isDirectory();
    }

    @Test
    void names_that_are_not_jobs_are_refused_or_not_found() throws Exception {
        assertThatThrownBy(() -> jobs().get("../etc")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'../etc' is not a training job name");
        assertThatThrownBy(() -> jobs().get("ghost")).isInstanceOf(JobStore.NoSuchJobException.class)
                .hasMessageContaining("no training job named 'ghost'").hasMessageContaining("ferry jobs ls");
        assertThatThrownBy(() -> jobs().log("ghost")).isInstanceOf(JobStore.NoSuchJobException.class);
        assertThatThrownBy(() -> jobs().delete("ghost")).isInstanceOf(JobStore.NoSuchJobException.class);
        assertThat(jobs().list()).isEmpty();
        inProgress("multi@algo-2", "2147483646");
        assertThat(jobs().get("multi@algo-2").description().name()).isEqualTo("multi");
        assertThatThrownBy(() -> jobs().get("multi")).isInstanceOf(JobStore.NoSuchJobException.class)
                .hasMessageContaining("no training job named 'multi'")
                .hasMessageEndingWith("it ran as one host of several, give one: multi@algo-2");
    }
}
