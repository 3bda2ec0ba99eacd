package ferry.s3;

import ferry.store.Location;
import ferry.store.ObjectExistsException;
import ferry.store.ObjectNotFoundException;
import ferry.store.StoreException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import javax.net.ssl.SSLHandshakeException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * Turns what the SDK throws into Ferry's errors: a message that names the location and says what to do. Messages
 * carry error codes and the server's message, never keys, tokens or signed URLs.
 */
final class S3Errors {
    private static final String CHECKSUM_HINT = "if the server refuses the AWS SDK's checksums, set"
            + " AWS_REQUEST_CHECKSUM_CALCULATION=when_required and AWS_RESPONSE_CHECKSUM_VALIDATION=when_required";
    private static final String CREDENTIAL_VARIABLES = "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and"
            + " AWS_SESSION_TOKEN, or the profile named by AWS_PROFILE";

    private final S3Config config;

    S3Errors(S3Config config) {
        this.config = config;
    }

    /** The service error inside {@code failure}, or null when the request got no S3 answer. */
    static AwsServiceException serviceError(Throwable failure) {
        return unwrap(failure) instanceof AwsServiceException e ? e : null;
    }

    static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static boolean hasStatus(Throwable failure, int status) {
        AwsServiceException e = serviceError(failure);
        return e != null && e.statusCode() == status;
    }

    static String errorCode(AwsServiceException e) {
        return e.awsErrorDetails() != null && e.awsErrorDetails().errorCode() != null
                ? e.awsErrorDetails().errorCode()
                : "";
    }

    /**
     * The Ferry error for a failed request.
     *
     * @param action what was being done, as a verb: "read", "write", "list", "stat", "delete"
     */
    IOException map(Throwable failure, Location location, String action) {
        Throwable t = unwrap(failure);
        if (t instanceof IOException io && (t instanceof StoreException || isInterruption(t))) {
            return io;
        }
        if (t instanceof CancellationException) {
            return new InterruptedIOException("cancelled while trying to " + action + " " + where(location));
        }
        if (t instanceof AwsServiceException e) {
            return service(e, location, action);
        }
        return client(t, location, action);
    }

    private IOException service(AwsServiceException e, Location location, String action) {
        String code = errorCode(e);
        int status = e.statusCode();
        String serverMessage = e.awsErrorDetails() != null && e.awsErrorDetails().errorMessage() != null
                ? e.awsErrorDetails().errorMessage()
                : "";
        String answer = status + (code.isEmpty() ? "" : " " + code) + (serverMessage.isEmpty() ? "" : ": " + serverMessage);
        String target = where(location);
        String endpoint = config.endpointText();
        switch (code) {
            case "NoSuchBucket" -> {
                return new ObjectNotFoundException(location, noSuchBucket(location));
            }
            case "NoSuchKey" -> {
                return new ObjectNotFoundException(location);
            }
            case "NoSuchUpload" -> {
                return new StoreException(location, "cannot " + action + " " + target
                        + ": its multipart upload was aborted or has expired (" + answer + "); write the object again", e);
            }
            case "InvalidAccessKeyId" -> {
                return new StoreException(location, "S3 endpoint " + endpoint + " does not know the access key from "
                        + config.credentialsSource() + " (" + answer + ") while trying to " + action + " " + target
                        + ": check the credentials: " + CREDENTIAL_VARIABLES, e);
            }
            case "SignatureDoesNotMatch" -> {
                return new StoreException(location, "S3 endpoint " + endpoint + " rejected the request signature made"
                        + " with credentials from " + config.credentialsSource() + " (" + code + ") while trying to "
                        + action + " " + target + ": check the secret key: " + CREDENTIAL_VARIABLES, e);
            }
            case "ExpiredToken", "TokenRefreshRequired", "InvalidToken" -> {
                return new StoreException(location, "the session token from " + config.credentialsSource()
                        + " was refused (" + answer + ") while trying to " + action + " " + target
                        + ": get fresh credentials: " + CREDENTIAL_VARIABLES, e);
            }
            case "RequestTimeTooSkewed" -> {
                return new StoreException(location, "S3 endpoint " + endpoint + " refused to " + action + " " + target
                        + " because this machine's clock is off (" + answer + "): synchronize the clock", e);
            }
            case "InvalidBucketName" -> {
                return new StoreException(location, "invalid bucket name in " + target + " (" + answer
                        + "): bucket names are 3 to 63 lower-case letters, digits, dots and hyphens", e);
            }
            case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException" -> {
                return new StoreException(location, "the bucket of " + target + " is not in region " + config.region()
                        + " (" + answer + "): set AWS_REGION to the bucket's region", e);
            }
            case "NotImplemented" -> {
                return new StoreException(location, "S3 endpoint " + endpoint + " does not implement a request Ferry"
                        + " sent to " + action + " " + target + " (" + answer + "); " + CHECKSUM_HINT + " (now "
                        + config.requestChecksumCalculation() + " and " + config.responseChecksumValidation() + ")", e);
            }
            case "PreconditionFailed" -> {
                return new ObjectExistsException(location);
            }
            default -> {
                // fall through to the status code
            }
        }
        if (status == 404) {
            return new ObjectNotFoundException(location);
        }
        if (status == 412) {
            return new ObjectExistsException(location);
        }
        if (status == 403) {
            return new StoreException(location, "access denied to " + action + " " + target + " with credentials from "
                    + config.credentialsSource() + " (" + answer + "): check the credentials (" + CREDENTIAL_VARIABLES
                    + ") and the bucket's policy", e);
        }
        if (status == 400 && mentionsChecksums(code + " " + serverMessage)) {
            return new StoreException(location, "S3 endpoint " + endpoint + " refused a request to " + action + " "
                    + target + " (" + answer + "); " + CHECKSUM_HINT, e);
        }
        if (status == 301) {
            return new StoreException(location, "the bucket of " + target + " is not in region " + config.region()
                    + " or not at " + endpoint + " (" + answer + "): set AWS_REGION to the bucket's region", e);
        }
        if (status >= 500 || status == 429 || code.equals("SlowDown")) {
            return new StoreException(location, "S3 endpoint " + endpoint + " failed to " + action + " " + target
                    + " after " + config.maxAttempts() + " attempts (" + answer + "): try again later", e);
        }
        return new StoreException(location, "cannot " + action + " " + target + ": S3 endpoint " + endpoint
                + " answered " + answer, e);
    }

    /** The CRT HTTP client reports connection failures by message, not by exception type. */
    private static boolean isUnreachable(String message) {
        String lower = String.valueOf(message).toLowerCase(Locale.ROOT);
        return lower.contains("connection refused") || lower.contains("host name") || lower.contains("dns")
                || lower.contains("no route to host") || lower.contains("network is unreachable");
    }

    private static boolean mentionsChecksums(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        return lower.contains("checksum") || lower.contains("trailer") || lower.contains("content-sha256")
                || lower.contains("content-encoding") || lower.contains("aws-chunked");
    }

    private IOException client(Throwable t, Location location, String action) {
        String target = where(location);
        String endpoint = config.endpointText();
        if (causedBy(t, ConnectException.class) || causedBy(t, UnknownHostException.class)
                || causedBy(t, UnresolvedAddressException.class) || causedBy(t, NoRouteToHostException.class)
                || isUnreachable(rootMessage(t))) {
            return new StoreException(location, "cannot reach S3 endpoint " + endpoint
                    + ": check AWS_ENDPOINT_URL and that the server is running (while trying to " + action + " "
                    + target + ": " + rootMessage(t) + ")", t);
        }
        String message = t.getMessage() == null ? t.toString() : t.getMessage();
        if (rootMessage(t).contains("Unsupported or unrecognized SSL message")) {
            // The JDK's words for a TLS greeting answered in plain text.
            return new StoreException(location, "S3 endpoint " + endpoint + " does not speak TLS (while trying to "
                    + action + " " + target + "): if it serves plain HTTP, set AWS_ENDPOINT_URL to "
                    + endpoint.replaceFirst("^https://", "http://"), t);
        }
        if (causedBy(t, SSLHandshakeException.class) || message.contains("TLS (SSL) negotiation failed")) {
            return new StoreException(location, "cannot make a TLS connection to S3 endpoint " + endpoint
                    + " while trying to " + action + " " + target + " (" + rootMessage(t) + "): "
                    + (config.caBundle() == null
                            ? "if a private certificate authority signed the server's certificate, set AWS_CA_BUNDLE"
                                    + " to a PEM file that holds it"
                            : "check that " + config.caBundle().source() + " (" + config.caBundle().file()
                                    + ") holds the authority that signed the server's certificate"), t);
        }
        if (message.startsWith("Unable to load credentials")) {
            return new StoreException(location, "no credentials for S3 from " + config.credentialsSource()
                    + " while trying to " + action + " " + target + ": set AWS_ACCESS_KEY_ID and"
                    + " AWS_SECRET_ACCESS_KEY, or AWS_PROFILE naming a profile in ~/.aws/credentials", t);
        }
        if (message.contains("Acquire operation took longer")) {
            return new StoreException(location, "too many requests were waiting for a connection to S3 endpoint "
                    + endpoint + " while trying to " + action + " " + target + ": run fewer transfers at once", t);
        }
        if (isTimeout(t)) {
            return new StoreException(location, "S3 endpoint " + endpoint + " did not answer in time while trying to "
                    + action + " " + target + " (" + rootMessage(t) + ", " + config.maxAttempts()
                    + " attempts of at most " + config.attemptTimeout().toSeconds()
                    + " s): the server may be stalled or overloaded", t);
        }
        if (t instanceof SdkClientException || t instanceof IOException) {
            return new StoreException(location, "cannot " + action + " " + target + " at S3 endpoint " + endpoint
                    + ": " + rootMessage(t), t);
        }
        return new StoreException(location, "cannot " + action + " " + target + ": " + t, t);
    }

    /** The message for a bucket that does not exist. */
    String noSuchBucket(Location location) {
        return "bucket '" + location.bucket() + "' does not exist at S3 endpoint " + config.endpointText()
                + ": create it, or fix the bucket name in " + location;
    }

    /**
     * Whether a failure is the caller's own interruption, passed on as it is: a {@link SocketTimeoutException} is an
     * {@link InterruptedIOException} too, but it is the server's failure.
     */
    static boolean isInterruption(Throwable t) {
        return t instanceof InterruptedIOException && !(t instanceof SocketTimeoutException);
    }

    static boolean isTimeout(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String name = c.getClass().getSimpleName();
            String message = c.getMessage() == null ? "" : c.getMessage().toLowerCase(Locale.ROOT);
            if (name.contains("Timeout") || message.contains("timed out") || message.contains("timeout")) {
                return true;
            }
        }
        return false;
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return message == null || message.isBlank() ? root.getClass().getSimpleName() : message;
    }

    private static String where(Location location) {
        return location == null ? "the store" : location.toString();
    }
}
