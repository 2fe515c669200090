package io.sourcepostgres.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.FailureType;
import io.sourcepostgres.config.ConnectionUri.HostPort;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConnectionUriTest {

    @Test
    void plainUriWithDefaults() {
        ConnectionUri uri = ConnectionUri.parse("postgres://capture@db.example.com/appdb");
        assertThat(uri.hosts()).containsExactly(new HostPort("db.example.com", 5432));
        assertThat(uri.user()).isEqualTo("capture");
        assertThat(uri.password()).isNull();
        assertThat(uri.database()).isEqualTo("appdb");
        assertThat(uri.parameters()).isEmpty();
    }

    @Test
    void bothSchemesAreAccepted() {
        assertThat(ConnectionUri.parse("postgresql://u@h:6000/d").hosts()).containsExactly(new HostPort("h", 6000));
        assertThat(ConnectionUri.parse("postgres://u@h:6000/d").hosts()).containsExactly(new HostPort("h", 6000));
    }

    @Test
    void databaseDefaultsToTheUserNameLikeLibpq() {
        assertThat(ConnectionUri.parse("postgres://alice@h").database()).isEqualTo("alice");
        assertThat(ConnectionUri.parse("postgres://alice@h/").database()).isEqualTo("alice");
        assertThat(ConnectionUri.parse("postgres://alice@h?sslmode=disable").database()).isEqualTo("alice");
    }

    @Test
    void percentEncodingIsDecodedInEveryPart() {
        ConnectionUri uri = ConnectionUri.parse(
                "postgres://us%40er%3Aname:p%40ss%3Aw%2Frd%3F%25%20x@h/my%20db%2F%C3%A9?application_name=a%26b%3Dc");
        assertThat(uri.user()).isEqualTo("us@er:name");
        assertThat(uri.password()).isEqualTo("p@ss:w/rd?% x");
        assertThat(uri.database()).isEqualTo("my db/é");
        assertThat(uri.parameter("application_name")).isEqualTo("a&b=c");
    }

    @Test
    void plusIsNotASpaceInLibpqUris() {
        assertThat(ConnectionUri.parse("postgres://u:a+b@h/d").password()).isEqualTo("a+b");
    }

    @Test
    void unencodedTextOutsideTheBasicPlaneSurvivesDecoding() {
        // A percent-escape elsewhere in the same part makes the decoder walk this text char by char.
        ConnectionUri uri = ConnectionUri.parse("postgres://u@h/caf%C3%A9_\uD83D\uDE00_db");
        assertThat(uri.database()).isEqualTo("café_\uD83D\uDE00_db");
    }

    @Test
    void badPercentEscapesAreConfigErrorsThatDoNotQuoteThePassword() {
        assertThatThrownBy(() -> ConnectionUri.parse("postgres://u:sec%zzret@h/d"))
                .isInstanceOf(ConnectorException.class)
                .hasMessageContaining("%25")
                .hasMessageNotContaining("sec");
        assertThatThrownBy(() -> ConnectionUri.parse("postgres://u@h/d%4")).hasMessageContaining("percent-escape");
    }

    @Test
    void bracketedIpv6HostsWithAndWithoutPort() {
        ConnectionUri uri = ConnectionUri.parse("postgres://u@[2001:db8::1]:5433/d");
        assertThat(uri.hosts()).containsExactly(new HostPort("2001:db8::1", 5433));
        assertThat(uri.describeHosts()).isEqualTo("[2001:db8::1]:5433");
        assertThat(ConnectionUri.parse("postgres://u@[::1]/d").hosts()).containsExactly(new HostPort("::1", 5432));
        assertThatThrownBy(() -> ConnectionUri.parse("postgres://u@[::1/d")).hasMessageContaining("'['");
        assertThatThrownBy(() -> ConnectionUri.parse("postgres://u@[::1]x/d")).hasMessageContaining("after ']'");
    }

    @Test
    void severalHostsEachWithItsOwnPort() {
        ConnectionUri uri = ConnectionUri.parse("postgres://u@h1:5432,h2:5433,[::1]/d");
        assertThat(uri.hosts()).containsExactly(
                new HostPort("h1", 5432), new HostPort("h2", 5433), new HostPort("::1", 5432));
        assertThat(uri.describeHosts()).isEqualTo("h1:5432,h2:5433,[::1]:5432");
    }

    @Test
    void hostsAndPortsMayComeFromQueryParameters() {
        ConnectionUri uri = ConnectionUri.parse("postgres://u@/d?host=h1,h2&port=6001,6002");
        assertThat(uri.hosts()).containsExactly(new HostPort("h1", 6001), new HostPort("h2", 6002));
        assertThat(ConnectionUri.parse("postgres://u@/d?host=h1,h2&port=6001").hosts())
                .containsExactly(new HostPort("h1", 6001), new HostPort("h2", 6001));
        assertThat(ConnectionUri.parse("postgres:///d?user=u").hosts()).containsExactly(new HostPort("localhost", 5432));
        assertThatThrownBy(() -> ConnectionUri.parse("postgres://u@/d?host=h1,h2,h3&port=1,2"))
                .hasMessageContaining("3 hosts but 2 ports");
    }

    @Test
    void userPasswordAndDatabaseInTheQueryOverrideTheOnesBefore() {
        ConnectionUri uri = ConnectionUri.parse("postgres://a:b@h/c?user=x&password=y%26z&dbname=w");
        assertThat(uri.user()).isEqualTo("x");
        assertThat(uri.password()).isEqualTo("y&z");
        assertThat(uri.database()).isEqualTo("w");
        assertThat(uri.parameters()).isEmpty();
    }

    @Test
    void supportedQueryParametersAreKeptAndValidated() {
        ConnectionUri uri = ConnectionUri.parse("postgres://u@h/d?sslmode=verify-full&sslrootcert=/etc/ca.pem"
                + "&connect_timeout=7&application_name=my%20app&options=-c%20search_path%3Dx");
        assertThat(uri.parameter("sslmode")).isEqualTo("verify-full");
        assertThat(uri.parameter("sslrootcert")).isEqualTo("/etc/ca.pem");
        assertThat(uri.parameter("connect_timeout")).isEqualTo("7");
        assertThat(uri.parameter("application_name")).isEqualTo("my app");
        assertThat(uri.parameter("options")).isEqualTo("-c search_path=x");
        assertThat(uri.parameter("sslcert")).isNull();

        assertThatThrownBy(() -> ConnectionUri.parse("postgres://u@h/d?sslmode=maybe"))
                .hasMessageContaining("sslmode 'maybe'");
        assertThatThrownBy(() -> ConnectionUri.parse("postgres://u@h/d?connect_timeout=soon"))
                .hasMessageContaining("whole number");
        assertThatThrownBy(() -> ConnectionUri.parse("postgres://u@h/d?frobnicate=1"))
                .hasMessageContaining("'frobnicate' is not supported");
        assertThatThrownBy(() -> ConnectionUri.parse("postgres://u@h/d?sslmode"))
                .hasMessageContaining("has no value");
    }

    @Test
    void aMissingUserIsAConfigErrorThatShowsWhereItGoes() {
        assertThatThrownBy(() -> ConnectionUri.parse("postgres://db.example.com:5432/appdb"))
                .isInstanceOfSatisfying(ConnectorException.class,
                        e -> assertThat(e.failureType()).isEqualTo(FailureType.CONFIG_ERROR))
                .hasMessageContaining("names no user")
                .hasMessageContaining("postgres://USER@db.example.com:5432/appdb");
        assertThatThrownBy(() -> ConnectionUri.parse("postgres://:secret@h/d"))
                .hasMessageContaining("names no user")
                .hasMessageNotContaining("secret");
    }

    @Test
    void badPortsAreRejected() {
        for (String port : List.of("abc", "0", "65536", "99999999999", "+5432", "-1", "54 32")) {
            assertThatThrownBy(() -> ConnectionUri.parse("postgres://u@h:" + port + "/d"))
                    .as(port)
                    .isInstanceOf(ConnectorException.class)
                    .hasMessageContaining("not a number between 1 and 65535");
        }
        assertThatThrownBy(() -> ConnectionUri.parse("postgres://u@/d?host=h&port=x"))
                .hasMessageContaining("not a number between 1 and 65535");
        assertThat(ConnectionUri.parse("postgres://u@h:/d").hosts()).containsExactly(new HostPort("h", 5432));
    }

    @Test
    void badSchemesAreRejectedWithoutQuotingTheRest() {
        assertThatThrownBy(() -> ConnectionUri.parse("mysql://u:hunter2@h/d"))
                .hasMessageContaining("postgres://")
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> ConnectionUri.parse(" ")).hasMessageContaining("empty");
        assertThatThrownBy(() -> ConnectionUri.parse(null)).hasMessageContaining("empty");
    }

    @Test
    void anUnencodedReservedCharacterInThePasswordGivesAMessageWithoutAnyOfIt() {
        // Passwords from generators often hold '/' or '?'; libpq needs them percent-encoded. The parse then
        // sees part of the password as host:port, and must neither quote it nor give a baffling port error.
        for (String uri : List.of("postgres://capture:Qz7/kw99@db.example.com:5432/appdb",
                "postgres://capture:Qz7?kw99@db.example.com/appdb",
                "postgres://capture:5432/kw99@db.example.com/appdb?sslmode=require")) {
            assertThatThrownBy(() -> ConnectionUri.parse(uri))
                    .as(uri)
                    .isInstanceOf(ConnectorException.class)
                    .hasMessageContaining("percent-encode")
                    .hasMessageNotContaining("Qz7")
                    .hasMessageNotContaining("kw99");
        }
        // An '@' after the host is fine when the user is given as a parameter (Azure's user@server names).
        ConnectionUri azure = ConnectionUri.parse("postgres://h.postgres.database.azure.com/d?user=me@h&sslmode=require");
        assertThat(azure.user()).isEqualTo("me@h");
        assertThat(azure.hosts()).containsExactly(new HostPort("h.postgres.database.azure.com", 5432));
    }

    @Test
    void toStringNeverShowsAPassword() {
        ConnectionUri uri = ConnectionUri.parse(
                "postgres://u:topsecret@h/d?sslmode=require&sslpassword=keysecret&application_name=x");
        assertThat(uri.toString())
                .doesNotContain("topsecret")
                .doesNotContain("keysecret")
                .contains("u:****@h:5432/d")
                .contains("sslmode=require")
                .contains("application_name=x");
        ConnectionUri fromQuery = ConnectionUri.parse("postgres://u@h/d?password=qsecret");
        assertThat(fromQuery.toString()).doesNotContain("qsecret").contains("****");
        assertThat(ConnectionUri.parse("postgres://u@h/d").toString()).isEqualTo("postgres://u@h:5432/d");
    }
}
