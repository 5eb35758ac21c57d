// Test helper: deletes a partition's records below an offset, as retention would
// (Admin.deleteRecords from kafka-clients). Usage: DeleteRecords <bootstrap> <topic> <partition> <offset>
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.common.TopicPartition;

public class DeleteRecords {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    try (Admin admin = Admin.create(props)) {
      TopicPartition tp = new TopicPartition(args[1], Integer.parseInt(args[2]));
      long low = admin
          .deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(Long.parseLong(args[3]))))
          .lowWatermarks()
          .get(tp)
          .get()
          .lowWatermark();
      System.out.println(low);
    }
  }
}
