// Preferred leader election for every partition of the cluster, as an upgrade runbook runs
// after each broker is back (kafka-leader-election.sh --election-type preferred
// --all-topic-partitions; that tool is not among the broker jars scripts/stack.sh fetches).
// Compiled and run by `scripts/stack.sh elect-leaders`, with the broker's own kafka-clients jar.
//
//   java -cp <classes>:<kafka libs>/* ElectPreferredLeaders <bootstrap servers>
//
// Prints one line: `elected <n> partitions, <m> failed`; exit 1 when any failed.

import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ElectionNotNeededException;

public final class ElectPreferredLeaders {
  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: ElectPreferredLeaders <bootstrap servers>");
      System.exit(2);
    }
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30000);
    try (Admin admin = Admin.create(props)) {
      // null: every partition whose leader is not its preferred replica
      Map<TopicPartition, Optional<Throwable>> outcome =
          admin.electLeaders(ElectionType.PREFERRED, null).partitions().get();
      int elected = 0;
      int failed = 0;
      for (Map.Entry<TopicPartition, Optional<Throwable>> e : outcome.entrySet()) {
        Optional<Throwable> err = e.getValue();
        if (err.isEmpty()) elected++;
        else if (!(err.get() instanceof ElectionNotNeededException)) {
          failed++;
          System.err.println(e.getKey() + ": " + err.get());
        }
      }
      System.out.println("elected " + elected + " partitions, " + failed + " failed");
      System.exit(failed == 0 ? 0 : 1);
    }
  }
}
