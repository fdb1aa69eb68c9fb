package tools

func (s *Server) addResources() {}
func (s *Server) addPrompts()   {}
