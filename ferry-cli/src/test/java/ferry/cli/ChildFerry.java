package ferry.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Starts ferry as a separate JVM, as a user would, so tests can kill it at any moment. */
final class ChildFerry {
    private ChildFerry() {}

    static Process start(Map<String, String> environment, Path log, String... args) throws IOException {
        return start(List.of(), environment, log, args);
    }

    /** As {@link #start(Map, Path, String...)}, with options for the JVM such as {@code -Xmx64m}. */
    static Process start(List<String> jvmOptions, Map<String, String> environment, Path log, String... args)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("--sun-misc-unsafe-memory-access=allow");
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Ferry.class.getName());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(environment);
        builder.environment().put("AWS_EC2_METADATA_DISABLED", "true");
        return builder.start();
    }
}
