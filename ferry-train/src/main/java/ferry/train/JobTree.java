package ferry.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One job's folder: the {@code /opt/ml} layout the training process sees (CONTRACT.md section 1), plus Ferry's own
 * records in {@code .ferry/} (the request, the description, the log, the pids and a stop request).
 */
public final class JobTree {
    /** Where SageMaker puts the tree, and where Ferry binds it when the machine allows. */
    public static final Path OPT_ML = Path.of("/opt/ml");

    private final Path root;

    public JobTree(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    public Path inputConfig() {
        return root.resolve("input/config");
    }

    public Path channel(String name) {
        return root.resolve("input/data").resolve(name);
    }

    public Path model() {
        return root.resolve("model");
    }

    public Path output() {
        return root.resolve("output");
    }

    public Path outputData() {
        return root.resolve("output/data");
    }

    public Path failure() {
        return root.resolve("output/failure");
    }

    public Path checkpoints() {
        return root.resolve("checkpoints");
    }

    public Path ferry() {
        return root.resolve(".ferry");
    }

    public Path log() {
        return ferry().resolve("job.log");
    }

    public Path description() {
        return ferry().resolve("description.json");
    }

    public Path request() {
        return ferry().resolve("request.json");
    }

    /** The pid (and start time) of the {@code ferry train} process running the job. */
    public Path runnerPid() {
        return ferry().resolve("runner.pid");
    }

    /** The pid of the training process, which leads its own process group. */
    public Path processPid() {
        return ferry().resolve("process.pid");
    }

    /** Present when {@code ferry jobs stop} asked the job to stop. */
    public Path stopRequest() {
        return ferry().resolve("stop");
    }

    /**
     * The path a process sees for {@code /opt/ml/...}: the same path where the tree is bound at {@code /opt/ml},
     * else the matching path in this folder. Paths elsewhere are returned unchanged.
     */
    public Path hostPath(String scriptPath) {
        Path path = Path.of(scriptPath).normalize();
        if (path.startsWith(OPT_ML)) {
            return root.resolve(OPT_ML.relativize(path).toString());
        }
        return path;
    }

    /** Creates the folders of the layout (the job folder itself must exist). */
    void layOut() throws IOException {
        for (Path folder : new Path[] {inputConfig(), root.resolve("input/data"), model(), outputData(),
                root.resolve("output/intermediate"), checkpoints(), ferry()}) {
            Files.createDirectories(folder);
        }
    }
}
