# Selects a JDK 25 for Ferry's build and launcher (sourced by ./mvnw and ./ferry; POSIX sh).
# Keeps JAVA_HOME when it already points at a JDK 25 or newer; otherwise looks under /usr/lib/jvm.
ferry_java_major() {
  # The JDK's release file says it without starting a JVM (0.1-0.2 s on every command); ask java if it has none.
  if [ -f "$1/release" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release"
  else
    "$1/bin/java" -XshowSettings:properties -version 2>&1 |
      sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
  fi
}
ferry_jdk_ok() {
  [ -x "$1/bin/javac" ] || return 1
  ferry_major=$(ferry_java_major "$1")
  [ -n "$ferry_major" ] && [ "$ferry_major" -ge 25 ]
}
if [ -z "${JAVA_HOME-}" ] || ! ferry_jdk_ok "$JAVA_HOME"; then
  ferry_found=
  # mvnw runs with globbing off (set -f); this loop needs it.
  case $- in *f*) ferry_noglob=1; set +f ;; *) ferry_noglob= ;; esac
  for ferry_candidate in /usr/lib/jvm/*25* /usr/lib/jvm/*; do
    if [ -d "$ferry_candidate" ] && ferry_jdk_ok "$ferry_candidate"; then
      ferry_found=$ferry_candidate
      break
    fi
  done
  [ -z "$ferry_noglob" ] || set -f
  if [ -z "$ferry_found" ]; then
    echo "Ferry needs a JDK 25 or newer: set JAVA_HOME to one, or install one under /usr/lib/jvm" >&2
    echo "(for example Debian/Ubuntu: apt-get install openjdk-25-jdk, or a Temurin 25 build)." >&2
    exit 1
  fi
  JAVA_HOME=$ferry_found
fi
export JAVA_HOME
