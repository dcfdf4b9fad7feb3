package resolvers

// SetEventLog turns the event log's writes on or off (benchmarks only).
func SetEventLog(on bool) { writeEventLog = on }
