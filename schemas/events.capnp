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
  }
}
