package ferry.store.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A writer's mark names its host and pid namespace: a process in another container sharing the folder cannot be
 * looked up by pid, so its files must not be judged by whether that pid runs here. Needs root (for unshare).
 */
class WriterMarkTest {
    /** Prints this process's host mark; run as a child. */
    public static final class PrintHost {
        public static void main(String[] args) {
            System.out.print(WriterMark.HOST);
        }
    }

    @Test
    void a_process_in_another_pid_namespace_is_on_another_host_and_one_in_this_namespace_is_not() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> child = List.of(java, "-cp", System.getProperty("java.class.path"), PrintHost.class.getName());

        assertThat(run(child)).isEqualTo(WriterMark.HOST);
        List<String> contained = new java.util.ArrayList<>(List.of("unshare", "--pid", "--fork", "--mount-proc"));
        contained.addAll(child);
        String otherHost = run(contained);
        assertThat(otherHost).hasSize(WriterMark.HOST.length()).isNotEqualTo(WriterMark.HOST);

        assertThat(WriterMark.of("1@" + otherHost, "00000000")).isEqualTo(WriterMark.Writer.ON_ANOTHER_HOST);
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s ended", command).isTrue();
        assertThat(process.exitValue()).as("%s exit code", command).isZero();
        return out;
    }
}
