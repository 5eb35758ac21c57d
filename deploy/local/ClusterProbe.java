// Waits until a Kafka cluster answers a metadata request listing the expected
// number of brokers. Run by `stack up` as a single-file Java program with the
// broker's own jars on the classpath, so readiness needs no extra tool.
//
//   java -cp 'libs/*' ClusterProbe.java <bootstrap> <expectedBrokers> <timeoutSeconds>
//
// Prints the broker ids it saw; exits 0 when ready, 1 on timeout.

import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Node;

public class ClusterProbe {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    int expected = Integer.parseInt(args[1]);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[2]));
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "2000");
    props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
    String last = "no answer";
    try (Admin admin = Admin.create(props)) {
      while (System.nanoTime() < deadline) {
        try {
          var nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(2000)).nodes()
              .get(3, TimeUnit.SECONDS);
          StringBuilder ids = new StringBuilder();
          for (Node n : nodes) ids.append(ids.length() == 0 ? "" : ",").append(n.id());
          last = nodes.size() + " broker(s): " + ids;
          if (nodes.size() >= expected) {
            System.out.println(last);
            return;
          }
        } catch (Exception e) {
          last = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        Thread.sleep(300);
      }
    }
    System.err.println("cluster at " + bootstrap + " not ready (wanted " + expected + " brokers); last: " + last);
    System.exit(1);
  }
}
