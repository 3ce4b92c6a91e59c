# Every event Flowstone writes to its log. Additive changes only: never renumber, retype or remove a
# field or a union member, so every log ever written still decodes. New kinds go at the end of the union.
@0x903ce5294735b191;
using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("flowstone::schema");

struct Party {
  role @0 :Text;      # empty: the scheduler's own record of the job
  partyId @1 :Text;
}

struct JobDefaults {
  jobCores @0 :Int32;
  taskCores @1 :Int32;
  taskTimeoutS @2 :Int64;
  autoRetries @3 :Int32;
  syncType @4 :Text;
  computingPartitions @5 :Int32;
  retryBackoffMs @6 :Int64;        # first auto-retry waits this long, each later one twice as long
  admissionTimeoutS @7 :Int64;     # a job still waiting for admission after this long times out (0: never)
}

struct JobCreated {
  jobId @0 :Text;
  dagSchemaJson @1 :Text;          # validated dag_schema with dag.conf defaults filled in
  initiatorPartyId @2 :Text;
  schedulerPartyId @3 :Text;
  localParties @4 :List(Party);
  isScheduler @5 :Bool;
  userName @6 :Text;
  defaults @7 :JobDefaults;
}

struct JobStatusChanged {
  party @0 :Party;
  status @1 :Text;
  reason @2 :Text;
}

struct JobCancelRequested {
  stopStatus @0 :Text;
  reason @1 :Text;
}

struct JobNotesAdded {
  party @0 :Party;
  notes @1 :Text;
}

struct TaskVersionCreated {
  taskName @0 :Text;
  taskVersion @1 :Int32;
  party @2 :Party;
  executionId @3 :Text;
  autoRetries @4 :Int32;
  reason @5 :Text;
  notBefore @6 :Int64;             # an auto-retry starts no earlier than this (ms since the epoch)
}

struct TaskStatusChanged {
  taskName @0 :Text;
  taskVersion @1 :Int32;
  party @2 :Party;
  executionId @3 :Text;
  status @4 :Text;
  reason @5 :Text;
}

struct TaskPartyStatusChanged {
  taskName @0 :Text;
  taskVersion @1 :Int32;
  party @2 :Party;
  executionId @3 :Text;
  status @4 :Text;
  error @5 :Text;
}

struct TaskLaunched {
  taskName @0 :Text;
  taskVersion @1 :Int32;
  party @2 :Party;
  executionId @3 :Text;
  launcherPid @4 :Int64;
  cmd @5 :Text;
  logDir @6 :Text;
  providerName @7 :Text;           # name:version@device that ran it ("" in logs before it was recorded)
}

struct EndDelivered {              # at the scheduler: a joined party answered the stop sent at the end
  party @0 :Party;
}

struct PartyJoined {               # at the scheduler: a remote party created its copy of the job
  party @0 :Party;
}

struct TaskStartRequested {        # at a party: the scheduler asked it to start this run
  taskName @0 :Text;
  taskVersion @1 :Int32;
  party @2 :Party;
  executionId @3 :Text;
}

struct CopyResourcesApplied {      # a copy holds cores of its party's total
  party @0 :Party;
  cores @1 :Int32;
}

struct TaskResourcesApplied {      # a party's run holds cores of its copy's job cores (spec 5.4)
  taskName @0 :Text;
  taskVersion @1 :Int32;
  party @2 :Party;
  cores @3 :Int32;
}

struct TaskResourcesReturned {     # the run gave them back
  taskName @0 :Text;
  taskVersion @1 :Int32;
  party @2 :Party;
  reason @3 :Text;
}

struct CopyResourcesReturned {     # the copy gave them back
  party @0 :Party;
  cores @1 :Int32;
  reason @2 :Text;
}

struct AdmissionStarted {          # at the scheduler: every party is asked for the job's resources
  attempt @0 :Int32;
}

struct PartyResourcesAnswered {    # at the scheduler: one party's answer (code 0: granted)
  party @0 :Party;
  attempt @1 :Int32;
  code @2 :Int32;
  message @3 :Text;
}

struct AdmissionEnded {            # at the scheduler: granted everywhere, or why not
  attempt @0 :Int32;
  granted @1 :Bool;
  reason @2 :Text;
}

struct JobCleaned {                # /v2/job/clean: the job's views and outputs are gone; its history stays
  reason @0 :Text;
}

# What task runs produce (events/tracking.hpp). FATE's bodies are free-form JSON; they travel as JSON text.
struct MetricsSaved {              # POST /v2/worker/metric/save
  executionId @0 :Text;
  metricsJson @1 :Text;            # list of MetricData
}

struct DataOutputTracked {         # POST /v2/worker/data/tracking/save
  executionId @0 :Text;
  recordJson @1 :Text;
}

struct ModelSaved {                # POST /v2/worker/model/save; the tar is stored at `file` first
  executionId @0 :Text;
  outputKey @1 :Text;
  typeName @2 :Text;
  modelId @3 :Text;
  modelVersion @4 :Text;
  storageKey @5 :Text;
  file @6 :Text;
  sha256 @7 :Text;
  size @8 :Int64;
  metaDataJson @9 :Text;           # the tar's parsed *.meta.yaml members
}

struct TrackingDeleted {           # metric or model records removed
  kind @0 :Text;                   # "metric" | "model"
  taskName @1 :Text;               # empty: every task
  party @2 :Party;                 # empty role: every party
  outputKey @3 :Text;
}

struct TaskAdmissionStarted {      # at the scheduler: the task's remote parties are asked for its resources
  taskName @0 :Text;
  taskVersion @1 :Int32;
  attempt @2 :Int32;
}

struct TaskResourcesAnswered {     # at the scheduler: one remote party's answer (code 0: granted)
  taskName @0 :Text;
  taskVersion @1 :Int32;
  party @2 :Party;
  attempt @3 :Int32;
  code @4 :Int32;
  message @5 :Text;
}

struct TaskAdmissionEnded {        # at the scheduler: granted everywhere, or why not
  taskName @0 :Text;
  taskVersion @1 :Int32;
  attempt @2 :Int32;
  granted @3 :Bool;
  reason @4 :Text;
}

struct JobProgressChanged {        # at the scheduler: the share of tasks ended, as pushed to the parties
  progress @0 :Int32;
}

# The scheduler's own record of a job (before these existed, JobStatusChanged, TaskVersionCreated and
# TaskStatusChanged with an empty party role stood for them; the codec still reads those so).
struct ScheduleStatusChanged {
  status @0 :Text;
  reason @1 :Text;
}

struct ScheduleTaskVersionCreated {
  taskName @0 :Text;
  taskVersion @1 :Int32;
  autoRetries @2 :Int32;
  reason @3 :Text;
  notBefore @4 :Int64;             # an auto-retry starts no earlier than this (ms since the epoch)
}

struct ScheduleTaskStatusChanged {
  taskName @0 :Text;
  taskVersion @1 :Int32;
  status @2 :Text;
  reason @3 :Text;
}

struct JobEvent {
  atMs @0 :Int64;                  # when it happened (time enters the domain as event data)
  union {
    jobCreated @1 :JobCreated;
    jobStatusChanged @2 :JobStatusChanged;
    jobCancelRequested @3 :JobCancelRequested;
    jobNotesAdded @4 :JobNotesAdded;
    taskVersionCreated @5 :TaskVersionCreated;
    taskStatusChanged @6 :TaskStatusChanged;
    taskPartyStatusChanged @7 :TaskPartyStatusChanged;
    taskLaunched @8 :TaskLaunched;
    partyJoined @9 :PartyJoined;
    taskStartRequested @10 :TaskStartRequested;
    copyResourcesApplied @11 :CopyResourcesApplied;
    copyResourcesReturned @12 :CopyResourcesReturned;
    admissionStarted @13 :AdmissionStarted;
    partyResourcesAnswered @14 :PartyResourcesAnswered;
    admissionEnded @15 :AdmissionEnded;
    jobCleaned @16 :JobCleaned;
    metricsSaved @17 :MetricsSaved;
    dataOutputTracked @18 :DataOutputTracked;
    modelSaved @19 :ModelSaved;
    trackingDeleted @20 :TrackingDeleted;
    taskResourcesApplied @21 :TaskResourcesApplied;
    taskResourcesReturned @22 :TaskResourcesReturned;
    taskAdmissionStarted @23 :TaskAdmissionStarted;
    taskResourcesAnswered @24 :TaskResourcesAnswered;
    taskAdmissionEnded @25 :TaskAdmissionEnded;
    jobProgressChanged @26 :JobProgressChanged;
    scheduleStatusChanged @27 :ScheduleStatusChanged;
    scheduleTaskVersionCreated @28 :ScheduleTaskVersionCreated;
    scheduleTaskStatusChanged @29 :ScheduleTaskStatusChanged;
    endDelivered @30 :EndDelivered;
  }
  actor @31 :Text;                 # who caused it (a client, a worker, the scheduler...); "" before it existed
}

# The events of a party (stream "party:<party_id>"): what the server registered about itself.
struct CapacityRegistered {        # the computing engine's total, as read from the config at start
  engine @0 :Text;
  cores @1 :Int32;
}

# The ledger (events/resources/ledger.hpp): who holds the party's cores and who waits for them.
struct CoresReserved {
  holder @0 :Text;                 # "job_id/role/party_id"
  cores @1 :Int32;
}

struct CoresReleased {
  holder @0 :Text;
  keepWaiting @1 :Bool;            # refused at another party: it waits on, in its place
}

struct ReservationQueued {
  holder @0 :Text;
  cores @1 :Int32;
  priority @2 :Int32;
  order @3 :Int64;                 # the job's submit order (job_order)
  firstRefusedMs @4 :Int64;
}

struct WaiterForgotten {
  holder @0 :Text;
}

struct PartyEvent {                # one kind per event: exactly one of the fields after atMs is set
  atMs @0 :Int64;
  capacityRegistered @1 :CapacityRegistered;
  coresReserved @2 :CoresReserved;
  coresReleased @3 :CoresReleased;
  reservationQueued @4 :ReservationQueued;
  waiterForgotten @5 :WaiterForgotten;
}

# Retention (stream "retention", store/retention.hpp): a job's stream was removed past its retention; the
# rows of its views as they stood are kept here, so a rebuild from the log still shows the job.
struct ViewRow {
  family @0 :Text;
  key @1 :Data;                    # view keys may hold NUL bytes
  value @2 :Data;
}

struct JobCompacted {
  atMs @0 :Int64;
  jobId @1 :Text;
  endTime @2 :Int64;               # the job's last end, which was past the retention
  keepDays @3 :Int32;
  events @4 :UInt64;               # how many events the removed stream held
  rows @5 :List(ViewRow);
}

# A party's ledger as it stood at a version of its stream (store/snapshots.hpp): restarts replay only the
# events after it. `format` says how to read it; a build that does not know the format replays the stream.
struct LedgerSnapshot {
  format @0 :UInt32;               # 1
  engine @1 :Text;
  total @2 :Int32;
  held @3 :List(CoresReserved);    # holder -> cores
  waiting @4 :List(ReservationQueued);
  parked @5 :List(ReservationQueued);
}

# The events of the catalog (stream "catalog", events/catalog.hpp): tables, providers, imported models.
struct TableMeta {
  namespace @0 :Text;
  name @1 :Text;
  engine @2 :Text;
  path @3 :Text;
  dataType @4 :Text;
  jobId @5 :Text;
  count @6 :Int64;
  partitions @7 :Int32;
  metaJson @8 :Text;
  partOfDataJson @9 :Text;
  sourceJson @10 :Text;
  createTime @11 :Int64;
}

struct ProviderInfo {
  name @0 :Text;
  version @1 :Text;
  device @2 :Text;
  protocol @3 :Text;
  metadataJson @4 :Text;
  components @5 :List(Text);
  createTime @6 :Int64;
  updateTime @7 :Int64;
}

struct ImportedModel {
  modelId @0 :Text;
  modelVersion @1 :Text;
  role @2 :Text;
  partyId @3 :Text;
  taskName @4 :Text;
  outputKey @5 :Text;
  storageKey @6 :Text;
  file @7 :Text;
  sha256 @8 :Text;
  size @9 :Int64;
  metaDataJson @10 :Text;
  createTime @11 :Int64;
}

struct NamedTable {
  namespace @0 :Text;
  name @1 :Text;
}

struct ProviderKey {
  name @0 :Text;
  version @1 :Text;
  device @2 :Text;
}

struct ServerInfo {                # /v2/server/registry
  serverName @0 :Text;
  host @1 :Text;
  port @2 :Int32;
  protocol @3 :Text;
  createTime @4 :Int64;
  updateTime @5 :Int64;
}

struct ServiceInfo {               # /v2/server/service/registry
  serverName @0 :Text;
  serviceName @1 :Text;
  url @2 :Text;
  method @3 :Text;
  protocol @4 :Text;
  paramsJson @5 :Text;
  dataJson @6 :Text;
  headersJson @7 :Text;
  createTime @8 :Int64;
  updateTime @9 :Int64;
}

struct ServiceKey {
  serverName @0 :Text;
  serviceName @1 :Text;
}

struct CatalogEvent {
  atMs @0 :Int64;
  union {
    tableRegistered @1 :TableMeta;
    tableDeleted @2 :NamedTable;
    providerRegistered @3 :ProviderInfo;
    providerDeleted @4 :ProviderKey;
    modelImported @5 :ImportedModel;
    importedModelDeleted @6 :Text;    # storage key
    serverRegistered @7 :ServerInfo;
    serverDeleted @8 :Text;           # server name
    serviceRegistered @9 :ServiceInfo;
    serviceDeleted @10 :ServiceKey;
  }
}

# ---- the access stream ("access"): apps, partner apps, roles, resource grants (/v2/app, /v2/permission) ----

struct AccessApp {                 # an app a client or a site signs its requests with
  appId @0 :Text;
  appName @1 :Text;
  appToken @2 :Text;
  appType @3 :Text;                # admin | client | site
  createTime @4 :Int64;
}

struct PartnerApp {                # the app this site signs its calls to a partner party with
  partyId @0 :Text;
  appId @1 :Text;
  appToken @2 :Text;
}

struct AppRole {
  appId @0 :Text;
  role @1 :Text;
}

struct ResourceGrant {             # what an initiator party may run here
  partyId @0 :Text;
  kind @1 :Text;                   # component | dataset
  value @2 :Text;                  # a component name, "*", or a dataset as FATE writes it
}

struct AccessEvent {
  atMs @0 :Int64;
  union {
    appCreated @1 :AccessApp;
    appDeleted @2 :Text;           # app id
    partnerAppSaved @3 :PartnerApp;
    partnerAppDeleted @4 :Text;    # party id
    roleGranted @5 :AppRole;
    roleRevoked @6 :AppRole;
    resourceGranted @7 :ResourceGrant;
    resourceRevoked @8 :ResourceGrant;
  }
}
