// Creates the Kafka ACLs of `stack up --secure`, over the brokers' loopback PLAINTEXT
// listener whose principal (ANONYMOUS) is the super user. Run as a single-file Java
// program with the broker's own jars on the classpath:
//
//   java -cp 'libs/*' SecureSetup.java <internal bootstrap>
//
// User:gateway may use every topic and group and write idempotently, except topics
// prefixed "restricted.", which Kafka refuses it, and the configs of topics prefixed
// "noconfigs." (so tests can see Kafka's ACLs apply).

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class SecureSetup {
  private static final String GATEWAY = "User:gateway";

  private static AclBinding acl(
      ResourceType type, String name, PatternType pattern, AclOperation op, AclPermissionType permission) {
    return new AclBinding(
        new ResourcePattern(type, name, pattern),
        new AccessControlEntry(GATEWAY, "*", op, permission));
  }

  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    List<AclBinding> acls = new ArrayList<>();
    acls.add(acl(ResourceType.TOPIC, "*", PatternType.LITERAL, AclOperation.ALL, AclPermissionType.ALLOW));
    acls.add(acl(ResourceType.GROUP, "*", PatternType.LITERAL, AclOperation.ALL, AclPermissionType.ALLOW));
    for (AclOperation op : List.of(AclOperation.IDEMPOTENT_WRITE, AclOperation.DESCRIBE, AclOperation.CREATE)) {
      acls.add(acl(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, op, AclPermissionType.ALLOW));
    }
    acls.add(
        acl(ResourceType.TOPIC, "restricted.", PatternType.PREFIXED, AclOperation.ALL, AclPermissionType.DENY));
    acls.add(
        acl(ResourceType.TOPIC, "noconfigs.", PatternType.PREFIXED, AclOperation.DESCRIBE_CONFIGS,
            AclPermissionType.DENY));
    try (Admin admin = Admin.create(props)) {
      admin.createAcls(acls).all().get(60, TimeUnit.SECONDS);
    }
    System.out.println(acls.size() + " ACLs for " + GATEWAY + " (all topics and groups except 'restricted.*', no configs of 'noconfigs.*')");
  }
}
