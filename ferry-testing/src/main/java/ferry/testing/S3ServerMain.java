package ferry.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the loopback S3 server for benchmark scripts ({@code bench/}) until the process is killed.
 *
 * <pre>
 * java -cp ... ferry.testing.S3ServerMain [--port N] [--folder DIR] [--bucket NAME]... [--ignore-if-none-match]
 * </pre>
 *
 * Prints {@code bucket=NAME} for each bucket created, then {@code endpoint=http://127.0.0.1:N} once the server accepts
 * connections and the buckets exist (a script waits for that line). Credentials are {@link S3TestServer#ACCESS_KEY} and
 * {@link S3TestServer#SECRET_KEY}. Without {@code --folder}, objects go to a temporary folder deleted on a normal
 * exit (SIGTERM or SIGINT).
 */
public final class S3ServerMain {
    private S3ServerMain() {}

    public static void main(String[] args) throws InterruptedException {
        S3TestServer.Builder builder = S3TestServer.builder();
        List<String> buckets = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--port" -> builder.port(Integer.parseInt(value(args, ++i, arg)));
                case "--folder" -> builder.folder(Path.of(value(args, ++i, arg)));
                case "--bucket" -> buckets.add(value(args, ++i, arg));
                case "--ignore-if-none-match" -> builder.ignoreIfNoneMatch();
                default -> {
                    System.err.println("unknown argument '" + arg + "'; usage: S3ServerMain [--port N] [--folder DIR]"
                            + " [--bucket NAME]... [--ignore-if-none-match]");
                    System.exit(2);
                }
            }
        }
        S3TestServer server = builder.start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "s3-test-server-shutdown"));
        for (String bucket : buckets) {
            server.createBucket(bucket);
            System.out.println("bucket=" + bucket);
        }
        // Last, so that a script waiting for this line finds the buckets there.
        System.out.println("endpoint=" + server.endpoint());
        System.out.flush();
        new CountDownLatch(1).await();
    }

    private static String value(String[] args, int index, String option) {
        if (index >= args.length) {
            System.err.println(option + " needs a value");
            System.exit(2);
        }
        return args[index];
    }
}
