/**
 * The S3 store: {@code s3://bucket/key} locations on AWS S3 or any S3-compatible server (MinIO, Ceph RGW, s3proxy),
 * through the AWS SDK for Java v2; with a custom endpoint, the requests that dominate work on many small objects go
 * over the JDK's own HTTP clients ({@code S3Http}), signed by Ferry's own SigV4 ({@code SigV4}, held to the SDK's
 * signer by its tests).
 *
 * <p>Users need two types: {@link ferry.s3.S3StoreProvider}, which {@code ferry.store.Stores} finds on the class
 * path and configures from the environment, and {@link ferry.s3.S3Config} (with the {@link ferry.s3.CaBundle} it may
 * hold), to configure a store in code. Everything else is package-private.
 *
 * <p>Over https both HTTP clients, the JDK's and the SDK's (CRT), trust the same authorities: the JDK's trust store
 * ({@code javax.net.ssl.trustStore}), replaced by {@code AWS_CA_BUNDLE} or a profile's {@code ca_bundle} when set.
 *
 * <p>What it promises beyond {@link ferry.store.ObjectStore}: objects written by Ferry carry their whole-object
 * CRC32C as user metadata {@code ferry-crc32c}, multipart or not; an abandoned write never leaves a multipart upload
 * behind; {@code create} uses {@code If-None-Match: *} and fails closed on a store that ignores it.
 */
package ferry.s3;
