package ferry.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * How the training process is started so that it sees its job folder at {@code /opt/ml} without touching anyone
 * else's view of the machine: in a private mount namespace ({@code unshare -m --propagation private}) where the
 * job folder is bound at {@code /opt/ml} and each FileSystem channel is bound at its {@code input/data/<channel>}
 * (read-only unless {@code rw}). The job folder is bound recursively ({@code --rbind}), so the FastFile channels
 * Ferry mounted in it before the process started are at {@code /opt/ml/input/data/<channel>} too. The namespace
 * holds copies of those mounts: the FUSE server stays in Ferry, and unmounting them after the process ends leaves
 * nothing behind once the namespace is gone. The process leads its own process group ({@code setsid}) so that a
 * stop reaches every process it started.
 *
 * <p>Where the machine allows no mount namespace (not root, and unprivileged user namespaces are off), the process
 * runs in the job folder's paths instead ({@code SM_*} point there), FileSystem channels are symbolic links and
 * read-only is not enforced: {@link #note()} says so for the job log.
 *
 * <p>The folder {@code /opt/ml} itself is made on the machine ({@code mkdir -p}, by the probe and by each job, when
 * it is missing), not in the namespace: a mount namespace has its own mounts but shares the file system, and a bind
 * needs a folder to land on. Hiding {@code /opt} behind a tmpfs would hide what else is installed there. Ferry leaves
 * that empty folder in place: removing it while another job runs would detach that job's {@code /opt/ml} (since
 * Linux 3.18, removing a mount point detaches what is mounted there in every namespace).
 */
public final class Isolation {
    /** How to choose: {@code auto} probes the machine; {@code off} never uses a namespace. */
    public enum Mode {
        AUTO,
        OFF
    }

    /** A FileSystem channel to show at {@code input/data/<name>}. */
    public record Bind(Path source, Path target, boolean readWrite) {}

    /**
     * The shell that binds the folders and then runs the job: bash where there is one, because dash (Debian's sh)
     * drops variables whose names no shell can set, and SageMaker gives such names (SM_HP_BATCH-SIZE,
     * SM_CHANNEL_VAL-SET).
     */
    private static final String SHELL = Files.isExecutable(Path.of("/bin/bash")) ? "/bin/bash" : "sh";

    private final List<String> unshare;
    private final String note;

    private Isolation(List<String> unshare, String note) {
        this.unshare = unshare;
        this.note = note;
    }

    /**
     * Finds out what this machine allows, by binding {@code probeFolder} at {@code /opt/ml} in a throw-away
     * namespace (a few milliseconds).
     */
    public static Isolation probe(Mode mode, Path probeFolder) {
        if (mode == Mode.OFF) {
            return new Isolation(null, "not using a private mount namespace (FERRY_TRAIN_NAMESPACE=off):"
                    + " SM_* paths point into the job folder, scripts that hard-code /opt/ml will not find it, and"
                    + " read-only FileSystem channels are not enforced");
        }
        if (!Files.isExecutable(Path.of("/usr/bin/unshare")) && !Files.isExecutable(Path.of("/bin/unshare"))) {
            return new Isolation(null, "unshare(1) from util-linux is not installed, so the job folder cannot be"
                    + " bound at /opt/ml: SM_* paths point into the job folder, and read-only FileSystem channels"
                    + " are not enforced (install util-linux to change this)");
        }
        String failure = "";
        for (List<String> candidate : List.of(
                List.of("unshare", "-m", "--propagation", "private"),
                List.of("unshare", "-r", "-m", "--propagation", "private"))) {
            List<String> command = new ArrayList<>(candidate);
            command.addAll(List.of("sh", "-c", "mkdir -p /opt/ml && mount --rbind \"$0\" /opt/ml && test -d /opt/ml/.",
                    probeFolder.toString()));
            try {
                Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
                String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0) {
                    return new Isolation(candidate, "the job folder is bound at /opt/ml in a private mount namespace"
                            + " (" + String.join(" ", candidate) + ")");
                }
                failure = output.isEmpty() ? "exit " + process.exitValue() : output;
            } catch (IOException e) {
                failure = e.getMessage();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return new Isolation(null, "this machine allows no private mount namespace (" + failure + "): SM_* paths"
                + " point into the job folder, scripts that hard-code /opt/ml will not find it, and read-only"
                + " FileSystem channels are not enforced; run as root or enable unprivileged user namespaces"
                + " (sysctl kernel.unprivileged_userns_clone=1) to change this");
    }

    /** True when the process sees its tree at {@code /opt/ml}. */
    public boolean bindsOptMl() {
        return unshare != null;
    }

    /** One sentence for the job log on how the process is isolated. */
    public String note() {
        return note;
    }

    /** The tree's root as the process sees it. */
    public Path visibleRoot(JobTree tree) {
        return bindsOptMl() ? JobTree.OPT_ML : tree.root();
    }

    /**
     * Prepares each FileSystem channel's folder (an empty mount point, or a symbolic link without a namespace) and
     * returns the full command line that starts {@code command} in its own process group.
     */
    public List<String> wrap(JobTree tree, List<Bind> binds, List<String> command) throws IOException {
        List<String> argv = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid")) || Files.isExecutable(Path.of("/bin/setsid"))) {
            argv.add("setsid"); // its own process group, so that a stop reaches every process it starts
        }
        if (!bindsOptMl()) {
            for (Bind bind : binds) {
                Files.createDirectories(bind.target().getParent());
                Files.createSymbolicLink(bind.target(), bind.source());
            }
            argv.addAll(command);
            return argv;
        }
        StringBuilder script = new StringBuilder("set -e\nmkdir -p /opt/ml\nmount --rbind ")
                .append(quote(tree.root().toString())).append(" /opt/ml\n");
        for (Bind bind : binds) {
            Files.createDirectories(bind.target());
            String target = quote(JobTree.OPT_ML.resolve(tree.root().relativize(bind.target())).toString());
            script.append("mount --bind ").append(quote(bind.source().toString())).append(' ').append(target)
                    .append('\n');
            if (!bind.readWrite()) {
                script.append("mount -o remount,bind,ro ").append(target).append('\n');
            }
        }
        script.append("exec \"$@\"\n");
        argv.addAll(unshare);
        argv.addAll(List.of(SHELL, "-c", script.toString(), "ferry-job"));
        argv.addAll(command);
        return argv;
    }

    /** Quotes a word for sh: inside single quotes, each ' becomes '\''. */
    static String quote(String word) {
        return "'" + word.replace("'", "'\\''") + "'";
    }

    /** The environment a probe or process starts from: the given variables, with a PATH when they have none. */
    static Map<String, String> withPath(Map<String, String> environment) {
        if (environment.containsKey("PATH")) {
            return environment;
        }
        Map<String, String> copy = new java.util.LinkedHashMap<>(environment);
        copy.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        return copy;
    }
}
